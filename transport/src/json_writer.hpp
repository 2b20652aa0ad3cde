#pragma once
// A minimal JSON writer for the hot encode path: appends straight into one
// string, without building a DOM first.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace conflux::transport::detail {

inline void append_escaped(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      out.append("\\u00");
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

inline void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

/// Writes `"key":` (keys are plain ASCII literals, never escaped).
inline void append_key(std::string& out, std::string_view key) {
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

inline void field(std::string& out, std::string_view key, std::uint64_t value) {
  out.push_back(',');
  append_key(out, key);
  append_number(out, value);
}

inline void field(std::string& out, std::string_view key, bool value) {
  out.push_back(',');
  append_key(out, key);
  out.append(value ? "true" : "false");
}

inline void field(std::string& out, std::string_view key, std::string_view value) {
  out.push_back(',');
  append_key(out, key);
  append_escaped(out, value);
}

}  // namespace conflux::transport::detail
