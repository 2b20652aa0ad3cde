#include "wide_integers.hpp"

#include <algorithm>
#include <conflux/transport/json_text.hpp>
#include <cstddef>

namespace conflux::server {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// Whether the digits `magnitude` exceed `limit` (both without leading zeros,
/// as JSON writes integers).
bool exceeds(std::string_view magnitude, std::string_view limit) {
  if (magnitude.size() != limit.size()) return magnitude.size() > limit.size();
  return magnitude > limit;
}

}  // namespace

std::optional<std::string> first_wide_integer(std::string_view json) {
  for (std::size_t at = 0; at < json.size();) {
    if (json[at] == '"') {
      at = std::min(transport::json_string_end(json, at), json.size());
      continue;
    }
    if (json[at] != '-' && !is_digit(json[at])) {
      ++at;
      continue;
    }
    const auto start = at;
    const bool negative = json[at] == '-';
    if (negative) ++at;
    const auto digits = at;
    while (at < json.size() && is_digit(json[at])) ++at;
    const bool fraction_or_exponent =
        at < json.size() && (json[at] == '.' || json[at] == 'e' || json[at] == 'E');
    while (at < json.size() && (is_digit(json[at]) || json[at] == '.' || json[at] == 'e' ||
                                json[at] == 'E' || json[at] == '+' || json[at] == '-')) {
      ++at;
    }
    if (fraction_or_exponent) continue;  // a double, written as one
    const auto magnitude = json.substr(digits, at - digits);
    if (exceeds(magnitude, negative ? "9223372036854775808" : "18446744073709551615")) {
      return std::string(json.substr(start, at - start));
    }
  }
  return std::nullopt;
}

}  // namespace conflux::server
