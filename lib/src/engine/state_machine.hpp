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
#include <optional>
#include <string>

namespace conflux::detail {

/// A committed entry as the node applied it.
struct AppliedAction {
  raft::Index index = 0;
  raft::Term term = 0;
  boost::json::value action;  ///< null for no-ops
  bool no_op = false;
  std::string reducer_error;  ///< non-empty: the reducer threw, state unchanged
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

  /// On the leader, before proposing: reduces the provisional state by a
  /// fresh action, so that an action the reducer refuses is never appended.
  /// Throws what the reducer throws, leaving the state unchanged (the
  /// InPlaceReducer's promise). Until proposed() records it, the state is
  /// stale: if the proposal never happens, the next sync() rebuilds.
  /// Precondition: sync() since the log last changed.
  void reduce_provisional(const boost::json::value& action);
  /// The action reduce_provisional() took is the entry at (index, term).
  void proposed(raft::Index index, raft::Term term, boost::json::value action);
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
  /// Replaces both states with `state`, the committed state after entry
  /// `index` (from a snapshot); sync() then reduces the log after it.
  void restore(boost::json::value state, raft::Index index);

 private:
  struct Pending {
    raft::Term term;
    boost::json::value action;  // parsed once, reused at commit
  };

  void reduce_quietly(boost::json::value& state, const boost::json::value& action,
                      std::string* error) const;
  void extend(const raft::Entry& entry);
  void rebuild(const raft::Log& log);

  InPlaceReducer reduce_;
  boost::json::value committed_;
  boost::json::value provisional_;
  raft::Index applied_ = 0;
  // Entries reflected in the provisional state but not yet committed:
  // pending_[i] is the entry at applied_ + 1 + i. Invariant, unless stale_:
  // provisional_ == committed_ reduced by every pending_ action, in order.
  std::deque<Pending> pending_;
  // provisional_ may not match committed_ + pending_: an entry applied out
  // of step with it, a reduced action not (yet) proposed, or an exception
  // between changing the state and recording why. Set before such a
  // change, cleared once both agree again; sync() rebuilds while it is set.
  bool stale_ = false;
};

/// The JSON action an entry carries (null for a no-op). Throws on invalid JSON.
boost::json::value parse_action(const raft::Entry& entry);

}  // namespace conflux::detail
