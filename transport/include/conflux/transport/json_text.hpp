#pragma once
// Scanning JSON text that may not be valid: bounds-checked at every step, for
// the places that look at text before (or instead of) a parser: the codec's
// rescue of a perform whose arguments do not parse, and the HTTP API's check
// for integers beyond 64 bits.

#include <cstddef>
#include <string_view>

namespace conflux::transport {

/// `at` is an opening quote: the position just past the closing one, or
/// std::string_view::npos if the string is not closed.
inline std::size_t json_string_end(std::string_view json, std::size_t at) {
  for (++at; at < json.size(); ++at) {
    if (json[at] == '\\') {
      ++at;
    } else if (json[at] == '"') {
      return at + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace conflux::transport
