// The HTTP API's check for integers that Boost.JSON would silently turn into
// doubles (apps/server/wide_integers.hpp).
#include "wide_integers.hpp"

#include <doctest/doctest.h>

using conflux::server::first_wide_integer;

TEST_CASE("integers that fit 64 bits pass, at both ends of int64 and uint64") {
  for (const char* json : {"[0, -1, 9223372036854775807, -9223372036854775808]",
                           "[18446744073709551615]", R"({"k": [1, 2, {"n": -3}]})"}) {
    CAPTURE(json);
    CHECK_FALSE(first_wide_integer(json));
  }
}

TEST_CASE("the first integer beyond 64 bits is named, whatever its sign and place") {
  CHECK(first_wide_integer("[\"k\", 123456789012345678901234567890]") ==
        "123456789012345678901234567890");
  CHECK(first_wide_integer("[18446744073709551616]") == "18446744073709551616");
  CHECK(first_wide_integer("[-9223372036854775809]") == "-9223372036854775809");
  CHECK(first_wide_integer(R"({"a": {"b": [1, 99999999999999999999]}})") == "99999999999999999999");
}

TEST_CASE("doubles written as doubles, and digits inside strings, are not integers") {
  for (const char* json : {"[1.5e300, 123456789012345678901234567890.0, 1E400, -2e-9]",
                           R"(["123456789012345678901234567890", "\"99999999999999999999"])"}) {
    CAPTURE(json);
    CHECK_FALSE(first_wide_integer(json));
  }
}
