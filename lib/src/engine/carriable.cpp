// What may cross the wire (carriable.hpp).
#include "carriable.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

namespace conflux::detail {
namespace {

/// Eight bytes at a time: no byte of an ASCII word has its high bit set.
bool is_ascii(std::string_view text) {
  constexpr std::uint64_t high_bits = 0x8080808080808080;
  std::size_t at = 0;
  for (; at + 8 <= text.size(); at += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + at, 8);
    if (word & high_bits) return false;
  }
  for (; at < text.size(); ++at) {
    if (static_cast<unsigned char>(text[at]) >= 0x80) return false;
  }
  return true;
}

/// True when parsing the serialization of `v` certainly gives back `v`,
/// kinds included: no double (the parser may round differently from the
/// serializer), no uint64 that would come back as an int64, only ASCII text
/// (the parser refuses invalid UTF-8), nesting well inside the limit.
/// Anything else is settled by actually parsing.
bool round_trips_exactly(const boost::json::value& v, int depth = 0) {
  switch (v.kind()) {
    case boost::json::kind::null:
    case boost::json::kind::bool_:
    case boost::json::kind::int64:
      return true;
    case boost::json::kind::uint64:
      return v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    case boost::json::kind::double_:
      return false;
    case boost::json::kind::string:
      return is_ascii(v.get_string());
    case boost::json::kind::array:
      if (depth + 1 >= max_action_depth) return false;
      for (const auto& item : v.get_array()) {
        if (!round_trips_exactly(item, depth + 1)) return false;
      }
      return true;
    case boost::json::kind::object:
      if (depth + 1 >= max_action_depth) return false;
      for (const auto& member : v.get_object()) {
        if (!is_ascii(member.key()) || !round_trips_exactly(member.value(), depth + 1))
          return false;
      }
      return true;
  }
  return false;
}

/// The length of the valid UTF-8 sequence (RFC 3629: shortest forms only,
/// no surrogates, nothing past U+10FFFF) that starts `text` at `at`, or 0.
std::size_t utf8_sequence(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  std::size_t length = lead < 0x80   ? 1
                       : lead < 0xC2 ? 0
                       : lead < 0xE0 ? 2
                       : lead < 0xF0 ? 3
                       : lead < 0xF5 ? 4
                                     : 0;
  if (length == 0 || at + length > text.size()) return 0;
  std::uint32_t code = length == 1 ? lead : lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[at + i]);
    if ((next & 0xC0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
  if (overlong || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return 0;
  return length;
}

/// Whether `text` is valid UTF-8, as JSON requires and every peer's parser
/// checks.
bool is_utf8(std::string_view text) {
  if (is_ascii(text)) return true;
  for (std::size_t at = 0; at < text.size();) {
    const auto length = utf8_sequence(text, at);
    if (length == 0) return false;
    at += length;
  }
  return true;
}

enum class Flaw { none, not_finite, too_deep, not_utf8 };

/// What keeps a value (at nesting level `depth`) from being carried: a
/// non-finite number (JSON has no text for it), text that is not UTF-8, or
/// nesting to `max_depth` levels or beyond.
Flaw flaw_of(const boost::json::value& v, int depth, int max_depth) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(v.get_double()) ? Flaw::none : Flaw::not_finite;
    case boost::json::kind::string:
      return is_utf8(v.get_string()) ? Flaw::none : Flaw::not_utf8;
    case boost::json::kind::array:
      if (depth + 1 >= max_depth) return Flaw::too_deep;
      for (const auto& item : v.get_array()) {
        if (const auto flaw = flaw_of(item, depth + 1, max_depth); flaw != Flaw::none) return flaw;
      }
      return Flaw::none;
    case boost::json::kind::object:
      if (depth + 1 >= max_depth) return Flaw::too_deep;
      for (const auto& member : v.get_object()) {
        if (!is_utf8(member.key())) return Flaw::not_utf8;
        if (const auto flaw = flaw_of(member.value(), depth + 1, max_depth); flaw != Flaw::none)
          return flaw;
      }
      return Flaw::none;
    default:
      return Flaw::none;
  }
}

}  // namespace

std::string carriable_text(std::string_view text) {
  if (text.size() <= max_message_bytes && is_ascii(text)) return std::string(text);
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    const auto length = utf8_sequence(text, at);
    const auto piece = length ? text.substr(at, length) : replacement;
    if (out.size() + piece.size() > max_message_bytes) break;
    out += piece;
    at += length ? length : 1;
  }
  return out;
}

std::optional<std::string> action_problem(const std::string& payload, boost::json::value& action) {
  if (payload.size() > max_action_bytes) return "the action is larger than 8 MiB";
  if (round_trips_exactly(action)) return std::nullopt;
  boost::json::parse_options options;
  options.max_depth = max_action_depth;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(payload, ec, {}, options);
  if (ec) return "the action cannot be carried as JSON (" + ec.message() + ")";
  action = std::move(parsed);
  return std::nullopt;
}

std::optional<std::string> arguments_problem(const boost::json::array& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto flaw = flaw_of(args[i], 1, max_action_depth);
    if (flaw == Flaw::none) continue;
    const auto argument = "argument " + std::to_string(i + 1);
    if (flaw == Flaw::too_deep) {
      return argument + " is nested deeper than " + std::to_string(max_action_depth) + " levels";
    }
    if (flaw == Flaw::not_utf8) return argument + " holds text that is not valid UTF-8";
    return argument +
           (args[i].is_number() ? " is not a finite number" : " holds a number that is not finite");
  }
  return std::nullopt;
}

std::optional<std::string> state_problem(const boost::json::value& state, std::string_view what) {
  const std::string name(what);
  switch (flaw_of(state, 1, max_state_depth)) {  // 1: the snapshot's envelope
    case Flaw::none:
      return std::nullopt;
    case Flaw::not_finite:
      return name + " holds a number that is not finite (JSON has no text for NaN or infinity)";
    case Flaw::not_utf8:
      return name + " holds text that is not valid UTF-8";
    case Flaw::too_deep:
      return name + " is nested deeper than " + std::to_string(max_state_depth - 2) + " levels";
  }
  return std::nullopt;
}

}  // namespace conflux::detail
