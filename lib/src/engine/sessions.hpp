#pragma once
// Client sessions (thesis §6.3): what makes a perform exactly-once.
//
// A client registers a session through the log; the index of its `open`
// entry is its client id. Each of its performs carries (client, seq), and
// the leader appends the method's outcome, whatever it is, as one session
// entry: the action, a null result, or a refusal. Every replica keeps, in
// its replicated state, the outcome of each (client, seq) it applied, so a
// duplicate entry (a retry that reached a leader which did not know of the
// first) is never reduced twice: it is answered with the first outcome.
//
// Sessions expire by the time the leader writes into each entry, never by
// a replica's own clock: replicas drop the same sessions at the same entry.
// An entry of an expired session changes nothing, so once a client sees
// its session expire in the log it knows that none of its unanswered
// performs was applied, or ever will be.
//
// Invariant: a sequence number that was applied is either in its session's
// results or below its floor. So `fresh` (at or above the floor, no result)
// means never applied.

#include <boost/json/value.hpp>
#include <conflux/raft/types.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace conflux::detail {

/// Results kept per session beyond its acknowledgement, in number and in
/// bytes of actions: the oldest are forgotten past either (the newest is
/// always kept), and their sequence numbers become stale.
inline constexpr std::size_t max_results_per_session = 1024;
inline constexpr std::uint64_t max_result_bytes_per_session = 16 << 20;
/// Sessions kept at once: opening one more drops the one due to expire
/// first, as if it had expired (its performs are refused, never applied).
/// It bounds what clients opening sessions in a loop can make every replica hold.
inline constexpr std::size_t max_sessions = 100'000;

/// What a session entry carries (the payload of an EntryType::session entry,
/// docs/protocol.md §4.5b).
struct SessionEntry {
  enum class Kind { open, action, result };
  Kind kind = Kind::action;
  std::uint64_t time = 0;     ///< the leader's clock when it appended it, ms since the epoch
  std::uint64_t timeout = 0;  ///< open: how long the session may stay idle, ms
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
  std::uint64_t ack = 0;      ///< the client's lowest unanswered sequence number
  boost::json::value action;  ///< action, once decoded: the action
  std::string code;           ///< result: a refusal's errc name; empty for a null result
  std::string message;        ///< result: the refusal's message
};

/// The entry's payload: one JSON object (see protocol.md §4.5b); an action
/// entry embeds `action_text` (the action, serialized) as its action.
std::string encode(const SessionEntry& entry, std::string_view action_text = {});
/// Reads a payload, parsing it once; throws std::invalid_argument naming
/// what is wrong.
SessionEntry decode_session_entry(std::string_view payload);

/// The outcome recorded for one (client, seq).
struct SessionResult {
  raft::Index index = 0;  ///< the entry that carried it
  /// That entry's payload, shared with the log (no copy): its size counts
  /// against the session's bytes (identical on every replica), and its
  /// action is decoded only to answer a duplicate. Empty in an outcome
  /// handed out for a fresh entry, whose action the caller has.
  raft::Payload entry;
  std::string code;  ///< non-empty: refused, with this errc name
  std::string message;

  std::uint64_t bytes() const { return entry.size(); }
  /// The action applied (decoded from `entry`); null for a null result or a
  /// refusal.
  boost::json::value action() const;
};

class SessionTable {
 public:
  enum class Verdict {
    fresh,      ///< never applied: run it
    duplicate,  ///< applied: `result` is its outcome
    unknown,    ///< no such session (expired, or never opened)
    stale,      ///< below the floor: answered and forgotten, or given up
  };
  struct Admission {
    Verdict verdict = Verdict::fresh;
    const SessionResult* result = nullptr;  ///< for a duplicate
  };

  Admission admit(std::uint64_t client, std::uint64_t seq) const;
  bool contains(std::uint64_t client) const { return sessions_.count(client) != 0; }
  std::size_t size() const { return sessions_.size(); }
  /// The leader's clock as the log last said (ms since the epoch).
  std::uint64_t now() const { return now_; }

  /// The clock reaches `time` (it never goes back: a new leader's clock
  /// may be behind): sessions idle for longer than their timeout are
  /// dropped. Returns their ids.
  std::vector<std::uint64_t> advance(std::uint64_t time);
  /// Opens session `client` (the index of its open entry), idle since now().
  /// Returns the session dropped to make room (max_sessions), if any.
  std::optional<std::uint64_t> open(std::uint64_t client, std::uint64_t timeout);
  /// An entry of `client` was applied: it is active now, and every result
  /// below `ack` is forgotten.
  void touch(std::uint64_t client, std::uint64_t ack);
  /// Records the outcome of a fresh (client, seq).
  void record(std::uint64_t client, std::uint64_t seq, SessionResult result);

  /// For snapshots: {"now":...,
  /// "sessions":[{"client","timeout","active","floor","results":[...]}]}.
  boost::json::value to_json() const;
  /// Throws std::invalid_argument naming what is wrong.
  static SessionTable from_json(const boost::json::value& json);

 private:
  struct Session {
    std::uint64_t timeout = 0;
    std::uint64_t active = 0;  ///< now() when an entry of it was last applied
    std::uint64_t floor = 0;   ///< sequence numbers below it are stale
    std::uint64_t bytes = 0;   ///< the sum of the results' bytes
    std::map<std::uint64_t, SessionResult> results;
  };
  static void forget_below(Session& session, std::uint64_t seq);
  void schedule(std::uint64_t client, const Session& session);
  void unschedule(std::uint64_t client, const Session& session);

  std::map<std::uint64_t, Session> sessions_;
  std::set<std::pair<std::uint64_t, std::uint64_t>> deadlines_;  // (active + timeout, client)
  std::uint64_t now_ = 0;
};

}  // namespace conflux::detail
