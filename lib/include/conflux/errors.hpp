#pragma once
// Errors a perform can complete with. Each has a code in conflux's error
// category and a human message; a method's own error keeps its message
// intact, even across the network.

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace conflux {

enum class errc {
  unknown_method = 1,  ///< "<name> is not a registered method"
  method_failed,       ///< the method threw or rejected the call; message is the method's
  reducer_failed,      ///< the reducer threw on this action; message is the reducer's
  timeout,             ///< the perform's timeout passed first (the action may still commit)
  leadership_lost,     ///< (membership calls) another leader replaced the change: retry
  outcome_unknown,     ///< (membership calls) the leader changed before it answered
  closed,              ///< the node was closed
  bad_arguments,       ///< arguments or action could not be carried (not JSON, too large)
  no_leader,           ///< no reachable leader before the timeout; nothing was proposed: retry
  /// A membership change or transfer that cannot apply: an unknown id, an
  /// id already a member, removing the last voter (the message says which).
  membership_refused,
  /// Another membership change or a leadership transfer is in progress, or
  /// the learner to promote has not caught up: nothing was proposed; the
  /// membership calls retry by themselves until their timeout.
  change_in_progress,
  /// The client session (thesis §6.3) is unknown: it expired (it stayed
  /// idle longer than its timeout, by the leaders' clocks) or was never
  /// opened. The action was not applied, and never will be.
  session_expired,
  /// The sequence number is below what the session still remembers: its
  /// answer was acknowledged or forgotten, or its client gave up on it. It
  /// is not applied again.
  stale_sequence,
};
/// The last code, for iterating over them all.
inline constexpr errc last_errc = errc::stale_sequence;

/// The code's name, as in the enum ("unknown_method", ...): used on the wire.
std::string_view to_string(errc code);

const std::error_category& error_category();
std::error_code make_error_code(errc code);

/// True for errors after which retrying the same perform is safe because
/// the action certainly did not commit.
bool is_retryable(errc code);

/// What a failed perform throws (use_awaitable, use_future) or passes to its
/// handler (as an exception_ptr). what() is the message, exactly.
class Error : public std::runtime_error {
 public:
  Error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  errc code() const { return code_; }
  std::error_code error_code() const { return make_error_code(code_); }
  bool retryable() const { return is_retryable(code_); }

 private:
  errc code_;
};

/// Thrown by a method to refuse a call: the caller receives this message.
/// (Any exception a method throws has the same effect.)
class Rejection : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace conflux

template <>
struct std::is_error_code_enum<conflux::errc> : std::true_type {};
