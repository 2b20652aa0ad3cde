#include "state_machine.hpp"

#include <boost/json/parse.hpp>

namespace conflux::detail {

boost::json::value parse_action(const raft::Entry& entry) {
  if (entry.type != raft::EntryType::normal || entry.payload.empty()) return nullptr;
  return boost::json::parse(entry.payload.view());
}

StateMachine::StateMachine(Reducer reduce) : reduce_(std::move(reduce)) {
  committed_ = reduce_(nullptr, nullptr);  // the initial state (REFERENCE: reduce(none, null))
}

boost::json::value StateMachine::try_reduce(const boost::json::value& action) const {
  return reduce_(provisional(), action);
}

// A throwing reducer leaves the state as it was; every node does the same,
// so states stay identical.
boost::json::value StateMachine::reduce_quietly(const boost::json::value& state,
                                                const boost::json::value& action,
                                                std::string* error) const {
  try {
    return reduce_(state, action);
  } catch (const std::exception& e) {
    if (error) *error = e.what();
  } catch (...) {
    if (error) *error = "the reducer threw a non-standard exception";
  }
  return state;
}

void StateMachine::proposed(raft::Index index, raft::Term term, boost::json::value action,
                            boost::json::value state) {
  if (index != applied_ + pending_.size() + 1) return;  // not the next entry: sync() catches up
  pending_.push_back(Pending{term, std::move(action)});
  provisional_ = std::move(state);
}

// By the Log Matching Property, if the last reflected entry still has the
// term we reflected, so do all before it: only the tail needs checking.
void StateMachine::sync(const raft::Log& log) {
  const raft::Index reflected = applied_ + pending_.size();
  if (!pending_.empty() && log.term_at(reflected) != pending_.back().term) return rebuild(log);
  for (raft::Index i = reflected + 1; i <= log.last_index(); ++i) extend(log.at(i));
}

void StateMachine::extend(const raft::Entry& entry) {
  boost::json::value action;
  try {
    action = parse_action(entry);
  } catch (const std::exception&) {
    action = nullptr;  // not JSON: a null action changes nothing
  }
  if (!action.is_null()) {
    provisional_ = reduce_quietly(provisional(), action, nullptr);
  } else if (pending_.empty()) {
    provisional_ = committed_;  // about to stop mirroring committed_
  }
  pending_.push_back(Pending{entry.term, std::move(action)});
}

void StateMachine::rebuild(const raft::Log& log) {
  pending_.clear();  // provisional() is committed_ again
  for (raft::Index i = applied_ + 1; i <= log.last_index(); ++i) extend(log.at(i));
}

AppliedAction StateMachine::apply(const raft::Entry& entry) {
  AppliedAction applied{
      entry.index, entry.term, nullptr, entry.type != raft::EntryType::normal, {}};
  if (!pending_.empty() && pending_.front().term == entry.term) {
    applied.action = std::move(pending_.front().action);
    pending_.pop_front();
  } else {
    pending_.clear();  // the log changed under the provisional state: sync() rebuilds it
    try {
      applied.action = parse_action(entry);
    } catch (const std::exception& e) {
      applied.reducer_error = std::string("the action is not JSON: ") + e.what();
    }
  }
  applied_ = entry.index;
  if (!applied.action.is_null()) {
    committed_ = reduce_quietly(committed_, applied.action, &applied.reducer_error);
  }
  if (pending_.empty()) provisional_ = nullptr;  // mirrors committed_: free the stale copy
  return applied;
}

}  // namespace conflux::detail
