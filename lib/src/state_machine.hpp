#pragma once
// The application's state on one node: the committed state (every committed
// action reduced, in order) and the provisional state (the committed state
// with every action still in the log on top). The provisional state is kept
// incrementally; it is rebuilt from the committed state only when the log's
// uncommitted tail is replaced (a follower truncating a conflict).

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

class StateMachine {
 public:
  explicit StateMachine(Reducer reduce);

  const boost::json::value& committed() const { return committed_; }
  const boost::json::value& provisional() const {
    return pending_.empty() ? committed_ : provisional_;
  }
  raft::Index applied() const { return applied_; }

  /// The reducer applied to the provisional state, without keeping the
  /// result: lets the leader refuse an action the reducer would reject
  /// before it is proposed. Throws what the reducer throws.
  boost::json::value try_reduce(const boost::json::value& action) const;
  /// Records a leader's freshly proposed action at (index, term), with the
  /// state try_reduce() computed for it.
  void proposed(raft::Index index, raft::Term term, boost::json::value action,
                boost::json::value state);
  /// Brings the provisional state up to the end of `log`: extends it with new
  /// entries, or rebuilds it if the log's uncommitted tail was replaced.
  /// O(new entries). Call before running a method, and after each Ready.
  void sync(const raft::Log& log);
  /// Applies one committed entry (in order) to the committed state.
  AppliedAction apply(const raft::Entry& entry);

 private:
  struct Pending {
    raft::Term term;
    boost::json::value action;  // parsed once, reused at commit
  };

  boost::json::value reduce_quietly(const boost::json::value& state,
                                    const boost::json::value& action, std::string* error) const;
  void extend(const raft::Entry& entry);
  void rebuild(const raft::Log& log);

  Reducer reduce_;
  boost::json::value committed_;
  boost::json::value provisional_;
  raft::Index applied_ = 0;
  // Entries reflected in the provisional state but not yet committed:
  // pending_[i] is the entry at applied_ + 1 + i. Invariant: provisional()
  // == committed_ reduced by every pending_ action, in order. While nothing
  // is pending, provisional() is committed_ itself and provisional_ is
  // stale: no state is copied when the pipeline drains.
  std::deque<Pending> pending_;
};

/// The JSON action an entry carries (null for a no-op). Throws on invalid JSON.
boost::json::value parse_action(const raft::Entry& entry);

}  // namespace conflux::detail
