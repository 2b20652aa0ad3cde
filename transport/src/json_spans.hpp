#pragma once
// Finds the exact text of each entry's "action" inside a message, so that the
// codec keeps the sender's bytes as the payload instead of re-serializing the
// parsed value. Re-serializing is not faithful: Boost.JSON 1.81 parses
// doubles imprecisely and prints them its own way (0.30000000000000004
// becomes 3.0000000000000004E-1, some values move by one ulp, 1e400 becomes
// the non-JSON "Infinity"), so replicas would hold, and apply, different
// actions. Internal to the codec.
//
// Precondition for every function here: the text has already been parsed by
// Boost.JSON with the codec's options (standard JSON only: no comments, no
// trailing commas), so it is known to be valid and at most 32 levels deep.
// Where a key repeats, the last one counts, as in Boost.JSON's objects.

#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace conflux::transport::detail {

inline bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

inline std::size_t skip_space(std::string_view json, std::size_t at) {
  while (at < json.size() && is_json_space(json[at])) ++at;
  return at;
}

/// `at` is an opening quote; returns the position just past the closing one.
/// Jumps from quote to quote with memchr (strings are most of an append's
/// bytes); a quote preceded by an odd run of backslashes is escaped.
inline std::size_t skip_string(std::string_view json, std::size_t at) {
  for (++at; at < json.size();) {
    const void* quote = std::memchr(json.data() + at, '"', json.size() - at);
    if (!quote) return json.size() + 1;
    const auto end = static_cast<std::size_t>(static_cast<const char*>(quote) - json.data());
    std::size_t backslashes = 0;
    while (end - backslashes > at && json[end - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return end + 1;
    at = end + 1;
  }
  return at + 1;
}

/// `at` starts a value; returns the position just past its end.
inline std::size_t skip_value(std::string_view json, std::size_t at) {
  if (json[at] == '"') return skip_string(json, at);
  if (json[at] != '{' && json[at] != '[') {  // number, true, false, null
    while (at < json.size() && json[at] != ',' && json[at] != '}' && json[at] != ']' &&
           !is_json_space(json[at])) {
      ++at;
    }
    return at;
  }
  int depth = 0;
  do {
    if (json[at] == '"') {
      at = skip_string(json, at);
      continue;
    }
    if (json[at] == '{' || json[at] == '[') ++depth;
    if (json[at] == '}' || json[at] == ']') --depth;
    ++at;
  } while (depth > 0);
  return at;
}

/// Whether a quoted key (escapes included) spells `name`.
inline bool key_is(std::string_view quoted_key, std::string_view name) {
  if (quoted_key.size() < 2) return false;
  const auto raw = quoted_key.substr(1, quoted_key.size() - 2);
  if (raw.find('\\') == std::string_view::npos) return raw == name;
  boost::system::error_code ec;
  const auto key = boost::json::parse(quoted_key, ec);
  return !ec && key.is_string() && key.get_string() == name;
}

/// Calls `visit(key, value)` with the text of each member of an object, or
/// with the text of each element (and an empty key) of an array. `text`
/// starts with its opening bracket.
template <class Visit>
void for_each_member(std::string_view text, Visit visit) {
  const bool is_object = text.front() == '{';
  std::size_t at = skip_space(text, 1);
  while (at < text.size() && text[at] != '}' && text[at] != ']') {
    std::string_view key;
    if (is_object) {
      const auto key_end = skip_string(text, at);
      key = text.substr(at, key_end - at);
      at = skip_space(text, skip_space(text, key_end) + 1);  // past the ':'
    }
    const auto value_end = skip_value(text, at);
    visit(key, text.substr(at, value_end - at));
    at = skip_space(text, value_end);
    if (at < text.size() && text[at] == ',') at = skip_space(text, at + 1);
  }
}

/// The text of the last member of `object` called `name`; empty if none, or
/// if `object` (leading whitespace allowed) is not an object.
inline std::string_view member_text(std::string_view object, std::string_view name) {
  object = object.substr(skip_space(object, 0));
  if (object.empty() || object.front() != '{') return {};
  std::string_view found;
  for_each_member(object, [&](std::string_view key, std::string_view value) {
    if (key_is(key, name)) found = value;
  });
  return found;
}

/// The texts an entry of an append message carries verbatim: its members
/// "action", "configuration" and "session" (the last of each; empty if
/// absent).
struct EntryTexts {
  std::string_view action, configuration, session;
};

/// Each entry's texts, in entry order, found in one pass over the message.
/// Empty if there is no "entries" array.
inline std::vector<EntryTexts> entry_texts(std::string_view message) {
  std::vector<EntryTexts> texts;
  const auto entries = member_text(message, "entries");
  if (entries.empty() || entries.front() != '[') return texts;
  for_each_member(entries, [&](std::string_view, std::string_view entry) {
    EntryTexts found;
    if (entry.front() == '{') {
      for_each_member(entry, [&](std::string_view key, std::string_view value) {
        if (key_is(key, "action")) found.action = value;
        if (key_is(key, "configuration")) found.configuration = value;
        if (key_is(key, "session")) found.session = value;
      });
    }
    texts.push_back(found);
  });
  return texts;
}

}  // namespace conflux::transport::detail
