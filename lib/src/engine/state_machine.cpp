#include "state_machine.hpp"

#include <boost/json/parse.hpp>
#include <new>

#include "carriable.hpp"

namespace conflux::detail {

boost::json::value parse_action(const raft::Entry& entry) {
  if (entry.type == raft::EntryType::session) {
    auto session = decode_session_entry(entry.payload.view());
    return std::move(session.action);  // null unless an action entry
  }
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
    if (error) *error = carriable_text(e.what());  // recorded in the sessions
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

void StateMachine::proposed(raft::Index index, raft::Term term, boost::json::value action,
                            std::optional<SessionEntry> session, bool reduced) {
  // Right after a sync() the proposal is the next entry; if it ever is not,
  // the state stays stale and sync() rebuilds from the log.
  if (index != applied_ + pending_.size() + 1) return;
  Pending pending{term, std::move(action), std::move(session), reduced};
  if (const auto key = pending.key()) pending_keys_[*key] = index;
  pending_.push_back(std::move(pending));
  stale_ = false;
}

SessionStanding StateMachine::standing(std::uint64_t client, std::uint64_t seq) const {
  using Kind = SessionStanding::Kind;
  if (const auto found = pending_keys_.find({client, seq}); found != pending_keys_.end()) {
    return {Kind::in_log, found->second, pending_.at(found->second - applied_ - 1).term, nullptr};
  }
  const auto admission = sessions_.admit(client, seq);
  switch (admission.verdict) {
    case SessionTable::Verdict::fresh:
      return {Kind::fresh, 0, 0, nullptr};
    case SessionTable::Verdict::duplicate:
      return {Kind::applied, admission.result->index, 0, admission.result};
    case SessionTable::Verdict::stale:
      return {Kind::stale, 0, 0, nullptr};
    case SessionTable::Verdict::unknown:
      break;
  }
  // A session is opened by the entry at its id: until that is applied, it
  // may be about to exist.
  return {client > applied_ ? Kind::not_yet : Kind::unknown, 0, 0, nullptr};
}

// By the Log Matching Property, if the last reflected entry still has the
// term we reflected, so do all before it: only the tail needs checking.
void StateMachine::sync(const raft::Log& log) {
  if (applied_ < log.base_index()) {
    // The core installed a snapshot that restore() has not brought here yet
    // (its Ready is still being written): the entries in between are gone
    // from the log, and the provisional state waits for the snapshot.
    stale_ = true;
    forget_pending();
    return;
  }
  const raft::Index reflected = applied_ + pending_.size();
  if (stale_ || (!pending_.empty() && log.term_at(reflected) != pending_.back().term))
    return rebuild(log);
  for (raft::Index i = reflected + 1; i <= log.last_index(); ++i) extend(log.at(i));
}

void StateMachine::extend(const raft::Entry& entry) {
  Pending pending{entry.term, nullptr, std::nullopt, true};
  stale_ = true;  // until the action is both reduced and recorded
  if (entry.type == raft::EntryType::session) {
    extend_session(entry, pending);
  } else {
    try {
      pending.action = parse_action(entry);
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception&) {
      pending.action = nullptr;  // not JSON: a null action changes nothing
    }
    if (!pending.action.is_null()) reduce_quietly(provisional_, pending.action, nullptr);
  }
  if (const auto key = pending.key()) pending_keys_[*key] = entry.index;
  pending_.push_back(std::move(pending));
  stale_ = false;
}

// The provisional state guesses what apply_session() will decide: a
// perform is reduced unless it is already in the log or applied, or its
// session is unknown. Expiry is not foreseen: when the guess is wrong,
// apply() marks the state stale and it is rebuilt.
void StateMachine::extend_session(const raft::Entry& entry, Pending& pending) {
  pending.reduced = false;
  try {
    pending.session = decode_session_entry(entry.payload.view());
  } catch (const std::invalid_argument&) {
    return;  // not a valid session entry: it will change nothing
  }
  pending.action = std::move(pending.session->action);
  const auto key = pending.key();
  if (!key || !provisionally_fresh(*key) || pending.action.is_null()) return;
  pending.reduced = true;
  reduce_quietly(provisional_, pending.action, nullptr);
}

bool StateMachine::provisionally_fresh(const Key& key) const {
  if (pending_keys_.count(key)) return false;
  const auto verdict = sessions_.admit(key.first, key.second).verdict;
  return verdict == SessionTable::Verdict::fresh ||
         (verdict == SessionTable::Verdict::unknown && key.first > applied_);
}

void StateMachine::forget_pending() {
  pending_.clear();
  pending_keys_.clear();
}

// The only place the state is copied: after the log's uncommitted tail was
// replaced, an action was reduced but not proposed, or an exception.
void StateMachine::rebuild(const raft::Log& log) {
  stale_ = true;
  forget_pending();
  provisional_ = committed_;
  stale_ = false;
  for (raft::Index i = applied_ + 1; i <= log.last_index(); ++i) extend(log.at(i));
}

AppliedAction StateMachine::apply(const raft::Entry& entry) {
  AppliedAction applied;
  applied.index = entry.index;
  applied.term = entry.term;
  applied.no_op = entry.type != raft::EntryType::normal && entry.type != raft::EntryType::session;
  std::optional<Pending> reflected;  // the entry as the provisional state holds it
  if (!stale_ && !pending_.empty() && pending_.front().term == entry.term) {
    reflected = std::move(pending_.front());
    pending_.pop_front();
    if (const auto key = reflected->key()) pending_keys_.erase(*key);
  } else {
    stale_ = true;  // applied out of step with the provisional state: sync() rebuilds it
    forget_pending();
  }
  applied_ = entry.index;
  if (entry.type == raft::EntryType::session) {
    apply_session(entry, reflected, applied);
    return applied;
  }
  try {
    applied.action = reflected ? std::move(reflected->action) : parse_action(entry);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    applied.reducer_error = std::string("the action is not JSON: ") + e.what();
  }
  if (!applied.action.is_null()) reduce_quietly(committed_, applied.action, &applied.reducer_error);
  return applied;
}

// sessions.hpp: the entry's time expires idle sessions first; then an open
// entry opens one, and a perform is reduced only if it is fresh.
void StateMachine::apply_session(const raft::Entry& entry, std::optional<Pending>& reflected,
                                 AppliedAction& applied) {
  const bool reduced_before = reflected && reflected->reduced;
  SessionEntry session;
  if (reflected && reflected->session) {  // decoded by extend() or proposed()
    session = std::move(*reflected->session);
    session.action = std::move(reflected->action);
  } else {
    try {
      session = decode_session_entry(entry.payload.view());
    } catch (const std::invalid_argument& e) {
      applied.no_op = true;  // changes nothing, on every replica alike
      applied.reducer_error = std::string("not a valid session entry: ") + e.what();
      if (reduced_before) stale_ = true;
      return;
    }
  }
  applied.expired = sessions_.advance(session.time);
  if (session.kind == SessionEntry::Kind::open) {
    if (const auto dropped = sessions_.open(entry.index, session.timeout)) {
      applied.expired.push_back(*dropped);
    }
    applied.opened = true;
    applied.no_op = true;
    return;
  }
  apply_perform(entry, session, reduced_before, applied);
}

// The outcome of a fresh action goes to applied.action (subscribers,
// completion); the sessions keep the entry it came in, shared with the log.
void StateMachine::apply_perform(const raft::Entry& entry, SessionEntry& session,
                                 bool reduced_before, AppliedAction& applied) {
  using Verdict = SessionTable::Verdict;
  const auto admission = sessions_.admit(session.client, session.seq);
  SessionOutcome outcome{session.client, session.seq, admission.verdict, {}};
  const bool reduce = admission.verdict == Verdict::fresh && !session.action.is_null();
  if (reduced_before != reduce) stale_ = true;  // the provisional guess was wrong: rebuild
  if (admission.verdict == Verdict::duplicate) outcome.result = *admission.result;
  if (admission.verdict == Verdict::fresh) {
    SessionResult result{entry.index, entry.payload, std::move(session.code),
                         std::move(session.message)};
    if (reduce) {
      applied.action = std::move(session.action);
      reduce_quietly(committed_, applied.action, &applied.reducer_error);
      if (!applied.reducer_error.empty()) {
        applied.action = nullptr;
        result.code = "reducer_failed";
        result.message = applied.reducer_error;
      }
    }
    outcome.result = SessionResult{result.index, {}, result.code, result.message};
    sessions_.record(session.client, session.seq, std::move(result));
  }
  // An honest client's ack never passes its own seq: kept so, this entry's
  // outcome stays in the sessions.
  if (admission.verdict != Verdict::unknown) {
    sessions_.touch(session.client, std::min(session.ack, session.seq));
  }
  applied.session = std::move(outcome);
}

void StateMachine::restore(boost::json::value state, SessionTable sessions, raft::Index index) {
  stale_ = true;
  forget_pending();
  sessions_ = std::move(sessions);
  committed_ = std::move(state);
  applied_ = index;
  provisional_ = committed_;
  stale_ = false;
}

}  // namespace conflux::detail
