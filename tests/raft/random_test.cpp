// Unit tests of the seeded generator (conflux/raft/random.hpp). The fixed
// values pin the sequence, so that a seed replays identically under every
// standard library (libstdc++, libc++ in WebAssembly).
#include <doctest/doctest.h>

#include <conflux/raft/random.hpp>
#include <cstdint>
#include <set>
#include <vector>

using conflux::raft::Random;

namespace {

std::vector<std::uint64_t> draws(std::uint64_t seed, int count) {
  Random random(seed);
  std::vector<std::uint64_t> out;
  for (int i = 0; i < count; ++i) out.push_back(random.next());
  return out;
}

std::vector<std::uint64_t> uniform_draws(std::uint64_t seed, std::uint64_t lo, std::uint64_t hi,
                                         int count) {
  Random random(seed);
  std::vector<std::uint64_t> out;
  for (int i = 0; i < count; ++i) out.push_back(random.uniform(lo, hi));
  return out;
}

}  // namespace

TEST_CASE("next() is SplitMix64: seed 0 gives the published reference sequence") {
  CHECK(draws(0, 4) == std::vector<std::uint64_t>{0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL,
                                                  0x06c45d188009454fULL, 0xf88bb8a8724c81ecULL});
}

TEST_CASE("next() replays a fixed sequence for seed 42") {
  CHECK(draws(42, 4) == std::vector<std::uint64_t>{0xbdd732262feb6e95ULL, 0x28efe333b266f103ULL,
                                                   0x47526757130f9f52ULL, 0x581ce1ff0e4ae394ULL});
}

TEST_CASE("uniform() replays fixed values for a given seed") {
  CHECK(uniform_draws(42, 10, 20, 12) ==
        std::vector<std::uint64_t>{19, 15, 12, 11, 12, 19, 17, 12, 20, 20, 12, 14});
  CHECK(uniform_draws(7, 1, 6, 12) ==
        std::vector<std::uint64_t>{4, 1, 1, 4, 5, 4, 5, 1, 6, 6, 2, 5});
}

TEST_CASE("uniform() rejects draws above the last whole multiple of the range") {
  // Range 2^63 + 1: seed 0's first draw (0xe220...) lies beyond the limit and is
  // redrawn; the second (0x6e78...) is accepted as is.
  CHECK(uniform_draws(0, 0, std::uint64_t{1} << 63, 2) ==
        std::vector<std::uint64_t>{0x6e789e6aa1b965f4ULL, 0x06c45d188009454fULL});
}

TEST_CASE("uniform() over the full 64-bit range is next()") {
  CHECK(uniform_draws(42, 0, UINT64_MAX, 4) == draws(42, 4));
}

TEST_CASE("the same seed gives the same sequence, and different seeds differ") {
  CHECK(draws(123, 16) == draws(123, 16));
  CHECK(draws(123, 16) != draws(124, 16));
}

TEST_CASE("uniform() stays within [lo, hi] and hits both ends") {
  Random random(2024);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t x = random.uniform(10, 20);
    REQUIRE(x >= 10);
    REQUIRE(x <= 20);
    seen.insert(x);
  }
  CHECK(seen.size() == 11);
  CHECK(*seen.begin() == 10);
  CHECK(*seen.rbegin() == 20);
}

TEST_CASE("uniform() of a single value always returns it") {
  Random random(5);
  for (int i = 0; i < 10; ++i) CHECK(random.uniform(7, 7) == 7);
}

TEST_CASE("chance() is never true at 0/n and always true at n/n") {
  Random random(9);
  for (int i = 0; i < 100; ++i) {
    CHECK_FALSE(random.chance(0, 3));
    CHECK(random.chance(3, 3));
  }
}
