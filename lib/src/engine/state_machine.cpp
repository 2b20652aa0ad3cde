#include "state_machine.hpp"

#include <boost/json/parse.hpp>
#include <new>

namespace conflux::detail {

boost::json::value parse_action(const raft::Entry& entry) {
  if (entry.type != raft::EntryType::normal || entry.payload.empty()) return nullptr;
  return boost::json::parse(entry.payload.view());
}

// A Reducer computes the next state before it is assigned, so the state is
// unchanged when it throws: the strong guarantee InPlaceReducer asks for.
InPlaceReducer in_place(const Options& options) {
  if (options.reduce_in_place) return options.reduce_in_place;
  return [reduce = options.reduce](boost::json::value& state, const boost::json::value& action) {
    state = reduce(state, action);
  };
}

StateMachine::StateMachine(InPlaceReducer reduce) : reduce_(std::move(reduce)) {
  reduce_(committed_, nullptr);  // the initial state (REFERENCE: reduce(none, null))
  provisional_ = committed_;
}

// A throwing reducer leaves the state as it was; every node does the same,
// so states stay identical. Running out of memory is not the reducer's
// verdict: another node would not fail there, so it propagates and the
// node stops acknowledging rather than diverge.
void StateMachine::reduce_quietly(boost::json::value& state, const boost::json::value& action,
                                  std::string* error) const {
  try {
    reduce_(state, action);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
  } catch (...) {
    if (error) *error = "the reducer threw a non-standard exception";
  }
}

void StateMachine::reduce_provisional(const boost::json::value& action) {
  stale_ = true;
  try {
    reduce_(provisional_, action);
  } catch (const std::bad_alloc&) {
    throw;  // stays stale: the next sync() rebuilds
  } catch (...) {
    stale_ = false;  // the reducer refused and changed nothing
    throw;
  }
}

void StateMachine::proposed(raft::Index index, raft::Term term, boost::json::value action) {
  // Right after a sync() the proposal is the next entry; if it ever is not,
  // the state stays stale and sync() rebuilds from the log.
  if (index != applied_ + pending_.size() + 1) return;
  pending_.push_back(Pending{term, std::move(action)});
  stale_ = false;
}

// By the Log Matching Property, if the last reflected entry still has the
// term we reflected, so do all before it: only the tail needs checking.
void StateMachine::sync(const raft::Log& log) {
  if (applied_ < log.base_index()) {
    // The core installed a snapshot that restore() has not brought here yet
    // (its Ready is still being written): the entries in between are gone
    // from the log, and the provisional state waits for the snapshot.
    stale_ = true;
    pending_.clear();
    return;
  }
  const raft::Index reflected = applied_ + pending_.size();
  if (stale_ || (!pending_.empty() && log.term_at(reflected) != pending_.back().term))
    return rebuild(log);
  for (raft::Index i = reflected + 1; i <= log.last_index(); ++i) extend(log.at(i));
}

void StateMachine::extend(const raft::Entry& entry) {
  boost::json::value action;
  try {
    action = parse_action(entry);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception&) {
    action = nullptr;  // not JSON: a null action changes nothing
  }
  stale_ = true;  // until the action is both reduced and recorded
  if (!action.is_null()) reduce_quietly(provisional_, action, nullptr);
  pending_.push_back(Pending{entry.term, std::move(action)});
  stale_ = false;
}

// The only place the state is copied: after the log's uncommitted tail was
// replaced, an action was reduced but not proposed, or an exception.
void StateMachine::rebuild(const raft::Log& log) {
  stale_ = true;
  pending_.clear();
  provisional_ = committed_;
  stale_ = false;
  for (raft::Index i = applied_ + 1; i <= log.last_index(); ++i) extend(log.at(i));
}

AppliedAction StateMachine::apply(const raft::Entry& entry) {
  AppliedAction applied{
      entry.index, entry.term, nullptr, entry.type != raft::EntryType::normal, {}};
  if (!stale_ && !pending_.empty() && pending_.front().term == entry.term) {
    applied.action = std::move(pending_.front().action);
    pending_.pop_front();
  } else {
    stale_ = true;  // applied out of step with the provisional state: sync() rebuilds it
    pending_.clear();
    try {
      applied.action = parse_action(entry);
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      applied.reducer_error = std::string("the action is not JSON: ") + e.what();
    }
  }
  applied_ = entry.index;
  if (!applied.action.is_null()) reduce_quietly(committed_, applied.action, &applied.reducer_error);
  return applied;
}

void StateMachine::restore(boost::json::value state, raft::Index index) {
  stale_ = true;
  pending_.clear();
  committed_ = std::move(state);
  applied_ = index;
  provisional_ = committed_;
  stale_ = false;
}

}  // namespace conflux::detail
