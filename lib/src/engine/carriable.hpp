#pragma once
// What may cross the wire: an action (appended to the log and parsed by
// every replica) and the arguments of a perform (forwarded to the leader).
// Both are checked where perform is called or where the method ran, so that
// nothing that a peer cannot decode is ever sent.

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace conflux::detail {

/// Largest serialized action, and largest serialized argument list that
/// is forwarded: well inside the 16 MiB frame limit.
inline constexpr std::size_t max_action_bytes = 8 << 20;
/// Deepest nesting of an action or an argument: the wire allows 32 levels,
/// minus the envelope around it.
inline constexpr int max_action_depth = 28;

/// Deepest nesting a snapshot may hold, its envelope included.
inline constexpr int max_state_depth = 4096;

/// Why `state` (the committed state, or the sessions, called `what`)
/// cannot be written into a snapshot that reads back (a number that is not
/// finite, text that is not UTF-8, nesting to max_state_depth), or nullopt.
/// Actions are checked before they are appended, but a reducer may still
/// build such a state from them.
std::optional<std::string> state_problem(const boost::json::value& state, std::string_view what);

/// Longest message text (a method's or a reducer's refusal) that is
/// recorded or sent.
inline constexpr std::size_t max_message_bytes = 4096;

/// `text` as it may be carried in an entry or a reply: each byte that does
/// not begin a valid UTF-8 sequence becomes U+FFFD, and the text is cut,
/// at a character's end, to max_message_bytes. A refusal's text is user
/// code's what(): unchecked, a follower could not decode the entry that
/// records it, and would apply the log differently from the leader.
std::string carriable_text(std::string_view text);

/// Why `payload` (the serialized `action`) cannot be carried, or nullopt;
/// on success `action` is exactly what replicas will parse from `payload`.
std::optional<std::string> action_problem(const std::string& payload, boost::json::value& action);

/// Why `args` cannot be carried, naming the first argument at fault
/// ("argument 2 is not a finite number", "... holds text that is not valid
/// UTF-8", "... is nested deeper than 28 levels"), or nullopt. Runs on the node
/// where perform is called, leader or not, so the same call gets the same
/// answer everywhere.
std::optional<std::string> arguments_problem(const boost::json::array& args);

}  // namespace conflux::detail
