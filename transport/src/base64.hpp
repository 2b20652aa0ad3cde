#pragma once
// Base64 (RFC 4648, standard alphabet, with padding) for the bytes of
// snapshot chunks, which are not text: a chunk may end inside a UTF-8
// sequence. JavaScript peers read it with atob() or Uint8Array.fromBase64().
// Both directions fill a buffer sized in advance: a chunk is a megabyte.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace conflux::transport::detail {

inline constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Each character's 6-bit value; 64 for a character outside the alphabet.
inline constexpr auto base64_values = [] {
  std::array<std::uint8_t, 256> values{};
  for (auto& value : values) value = 64;
  for (std::uint8_t i = 0; i < 64; ++i) values[static_cast<unsigned char>(base64_alphabet[i])] = i;
  return values;
}();

inline void append_base64(std::string& out, std::string_view bytes) {
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t whole = bytes.size() / 3;
  std::size_t at = out.size();
  out.resize(at + (bytes.size() + 2) / 3 * 4);
  char* o = out.data() + at;
  for (std::size_t i = 0; i < whole; ++i, in += 3, o += 4) {
    const std::uint32_t group = std::uint32_t{in[0]} << 16 | std::uint32_t{in[1]} << 8 | in[2];
    o[0] = base64_alphabet[group >> 18];
    o[1] = base64_alphabet[group >> 12 & 63];
    o[2] = base64_alphabet[group >> 6 & 63];
    o[3] = base64_alphabet[group & 63];
  }
  if (const auto rest = bytes.size() - whole * 3; rest > 0) {
    const std::uint32_t group =
        std::uint32_t{in[0]} << 16 | (rest == 2 ? std::uint32_t{in[1]} << 8 : 0);
    o[0] = base64_alphabet[group >> 18];
    o[1] = base64_alphabet[group >> 12 & 63];
    o[2] = rest == 2 ? base64_alphabet[group >> 6 & 63] : '=';
    o[3] = '=';
  }
}

/// The bytes `text` encodes; nullopt unless it is canonical padded base64.
inline std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out(text.size() / 4 * 3 - padding, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t groups = text.size() / 4;
  char* o = out.data();
  std::uint8_t bad = 0;  // any value of 64 marks a character outside the alphabet
  for (std::size_t g = 0; g + 1 < groups; ++g, in += 4, o += 3) {
    const auto a = base64_values[in[0]], b = base64_values[in[1]], c = base64_values[in[2]],
               d = base64_values[in[3]];
    bad |= a | b | c | d;
    const std::uint32_t group =
        std::uint32_t{a} << 18 | std::uint32_t{b} << 12 | std::uint32_t{c} << 6 | d;
    o[0] = static_cast<char>(group >> 16);
    o[1] = static_cast<char>(group >> 8);
    o[2] = static_cast<char>(group);
  }
  if (bad & 64) return std::nullopt;
  if (groups == 0) return out;
  // The last group, with its padding: the bits padding drops must be zero.
  std::uint32_t group = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const bool pad = k >= 4 - padding;
    const auto value = base64_values[in[k]];
    if (pad ? in[k] != '=' : value == 64) return std::nullopt;
    group = group << 6 | (pad ? 0 : value);
  }
  if ((padding == 1 && (group & 0xff) != 0) || (padding == 2 && (group & 0xffff) != 0)) {
    return std::nullopt;
  }
  o[0] = static_cast<char>(group >> 16);
  if (padding < 2) o[1] = static_cast<char>(group >> 8);
  if (padding < 1) o[2] = static_cast<char>(group);
  return out;
}

}  // namespace conflux::transport::detail
