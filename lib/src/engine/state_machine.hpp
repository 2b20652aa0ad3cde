#pragma once
// The application's state on one node: the committed state (every committed
// action reduced, in order) and the provisional state (the committed state
// with every action still in the log on top). Both are updated in place,
// action by action, so the node holds two full states; the provisional
// state is rebuilt from a copy of the committed one only when the log's
// uncommitted tail is replaced (a follower truncating a conflict), or after
// an action was reduced but not proposed, or after an exception.

#include <boost/json/value.hpp>
#include <conflux/options.hpp>
#include <conflux/raft/log.hpp>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sessions.hpp"

namespace conflux::detail {

/// What became of one session entry's (client, seq) when it was applied.
struct SessionOutcome {
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
  SessionTable::Verdict verdict = SessionTable::Verdict::fresh;
  /// fresh: where it was applied and any refusal (the action itself is
  /// AppliedAction::action); duplicate: the first application's outcome.
  SessionResult result;
};

/// A committed entry as the node applied it.
struct AppliedAction {
  raft::Index index = 0;
  raft::Term term = 0;
  boost::json::value action;  ///< null for no-ops, and for entries that reduced nothing
  bool no_op = false;
  std::string reducer_error;              ///< non-empty: the reducer threw, state unchanged
  bool opened = false;                    ///< a session entry that opened session `index`
  std::optional<SessionOutcome> session;  ///< a session entry's perform
  std::vector<std::uint64_t> expired;     ///< sessions this entry's time expired
};

/// Where a (client, seq) stands on this node, for a leader about to run it.
struct SessionStanding {
  enum class Kind {
    fresh,    ///< not in the log: run it
    in_log,   ///< an uncommitted entry at (index, term) carries it
    applied,  ///< committed: `result` is its outcome
    not_yet,  ///< the session's open entry is not applied here yet
    unknown,  ///< no such session: expired, or never opened
    stale,    ///< answered and forgotten, or given up by its client
  };
  Kind kind = Kind::fresh;
  raft::Index index = 0;
  raft::Term term = 0;
  const SessionResult* result = nullptr;
};

/// The options' reducer as one in-place function (a Reducer is wrapped).
InPlaceReducer in_place(const Options& options);

class StateMachine {
 public:
  explicit StateMachine(InPlaceReducer reduce);

  const boost::json::value& committed() const { return committed_; }
  /// Outside the owner's round the provisional state is never stale (every
  /// round ends with sync()); should it be, the committed state is the
  /// honest answer: it holds no action that is not in the log.
  const boost::json::value& provisional() const { return stale_ ? committed_ : provisional_; }
  raft::Index applied() const { return applied_; }
  /// The committed client sessions (sessions.hpp).
  const SessionTable& sessions() const { return sessions_; }
  /// Where (client, seq) stands: in the log's uncommitted tail, or in the
  /// committed sessions. Precondition: sync() since the log last changed.
  SessionStanding standing(std::uint64_t client, std::uint64_t seq) const;

  /// On the leader, before proposing: reduces the provisional state by a
  /// fresh action, so that an action the reducer refuses is never appended.
  /// Throws what the reducer throws, leaving the state unchanged (the
  /// InPlaceReducer's promise). Until proposed() records it, the state is
  /// stale: if the proposal never happens, the next sync() rebuilds.
  /// Precondition: sync() since the log last changed.
  void reduce_provisional(const boost::json::value& action);
  /// The action reduce_provisional() took (or, with `reduced` false, a
  /// session entry that reduces nothing) is the entry at (index, term): a
  /// session entry when `session` is given (its action aside).
  void proposed(raft::Index index, raft::Term term, boost::json::value action,
                std::optional<SessionEntry> session = std::nullopt, bool reduced = true);
  /// Brings the provisional state to exactly the end of `log`: extends it
  /// with new entries, or rebuilds it if the log's uncommitted tail was
  /// replaced or the state is stale. O(new entries), except a rebuild.
  /// While the log starts after applied() (a snapshot installed in the core
  /// but not yet restored here), it only marks the state stale.
  /// Call before running a method, and before applying a Ready's entries.
  void sync(const raft::Log& log);
  /// Applies one committed entry (in order) to the committed state. After
  /// sync(), the entry is the first pending one and is not parsed again.
  AppliedAction apply(const raft::Entry& entry);
  /// Replaces both states with `state`, and the sessions with `sessions`,
  /// as they were after entry `index` (from a snapshot); sync() then
  /// reduces the log after it.
  void restore(boost::json::value state, SessionTable sessions, raft::Index index);

 private:
  using Key = std::pair<std::uint64_t, std::uint64_t>;  // (client, seq)
  struct Pending {
    raft::Term term;
    boost::json::value action;            // parsed once, reused at commit
    std::optional<SessionEntry> session;  // a session entry, decoded (its action aside)
    bool reduced = true;                  // whether the provisional state holds its action
    /// A session entry's perform: its (client, seq).
    std::optional<Key> key() const {
      if (!session || session->kind == SessionEntry::Kind::open) return std::nullopt;
      return Key{session->client, session->seq};
    }
  };

  void reduce_quietly(boost::json::value& state, const boost::json::value& action,
                      std::string* error) const;
  void extend(const raft::Entry& entry);
  void extend_session(const raft::Entry& entry, Pending& pending);
  bool provisionally_fresh(const Key& key) const;
  void rebuild(const raft::Log& log);
  void forget_pending();
  void apply_session(const raft::Entry& entry, std::optional<Pending>& reflected,
                     AppliedAction& applied);
  void apply_perform(const raft::Entry& entry, SessionEntry& session, bool reduced_before,
                     AppliedAction& applied);

  InPlaceReducer reduce_;
  boost::json::value committed_;
  boost::json::value provisional_;
  raft::Index applied_ = 0;
  // Entries reflected in the provisional state but not yet committed:
  // pending_[i] is the entry at applied_ + 1 + i. Invariant, unless stale_:
  // provisional_ == committed_ reduced by every pending_ action, in order.
  std::deque<Pending> pending_;
  std::map<Key, raft::Index> pending_keys_;  // the session performs in pending_
  SessionTable sessions_;                    // as of applied_
  // provisional_ may not match committed_ + pending_: an entry applied out
  // of step with it, a reduced action not (yet) proposed, or an exception
  // between changing the state and recording why. Set before such a
  // change, cleared once both agree again; sync() rebuilds while it is set.
  bool stale_ = false;
};

/// The JSON action an entry carries (null for a no-op). Throws on invalid JSON.
boost::json::value parse_action(const raft::Entry& entry);

}  // namespace conflux::detail
