#pragma once
// Base64 (RFC 4648, standard alphabet, with padding) for the bytes of
// snapshot chunks, which are not text: a chunk may end inside a UTF-8
// sequence. JavaScript peers read it with atob() or Uint8Array.fromBase64().

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace conflux::transport::detail {

inline constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline void append_base64(std::string& out, std::string_view bytes) {
  const auto at = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]));
  };
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto group = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6)
      out.push_back(base64_alphabet[group >> shift & 63]);
  }
  if (const auto rest = bytes.size() - i; rest > 0) {
    const auto group = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out.push_back(base64_alphabet[group >> 18 & 63]);
    out.push_back(base64_alphabet[group >> 12 & 63]);
    out.push_back(rest == 2 ? base64_alphabet[group >> 6 & 63] : '=');
    out.push_back('=');
  }
}

/// The bytes `text` encodes; nullopt unless it is canonical padded base64.
inline std::optional<std::string> decode_base64(std::string_view text) {
  static const auto table = [] {
    struct Table {
      signed char value[256];
    } t{};
    for (auto& v : t.value) v = -1;
    for (int i = 0; i < 64; ++i)
      t.value[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<signed char>(i);
    return t;
  }();
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const bool pad = last && k >= 4 - padding;
      const auto value = table.value[static_cast<unsigned char>(text[i + k])];
      if (pad ? text[i + k] != '=' : value < 0) return std::nullopt;
      group = group << 6 | static_cast<std::uint32_t>(pad ? 0 : value);
    }
    out.push_back(static_cast<char>(group >> 16));
    if (!last || padding < 2) out.push_back(static_cast<char>(group >> 8 & 0xff));
    if (!last || padding < 1) out.push_back(static_cast<char>(group & 0xff));
    // Canonical: the bits that padding drops are zero.
    if (last &&
        ((padding == 1 && (group & 0xff) != 0) || (padding == 2 && (group & 0xffff) != 0))) {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace conflux::transport::detail
