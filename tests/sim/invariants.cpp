#include "sim/invariants.hpp"

namespace conflux::sim {
namespace {

std::string at(raft::Index index) {
  return " at index " + std::to_string(index);
}

}  // namespace

void InvariantChecker::fail(std::string what) {
  if (!failure_) failure_ = std::move(what);
}

void InvariantChecker::on_persist(const raft::NodeId& node, raft::Role role,
                                  const raft::MemoryStorage& storage, const raft::Ready& ready) {
  if (ready.hard_state) {
    check_vote(node, *ready.hard_state);
    auto& term = persisted_term_[node];
    if (ready.hard_state->term < term) fail(node + " persisted a lower term than before");
    term = ready.hard_state->term;
    const auto last = ready.entries.empty() ? storage.last_index() : ready.entries.back().index;
    if (ready.hard_state->commit > last) fail(node + " persisted a commit past its last entry");
  }
  if (ready.entries.empty()) return;
  if (role == raft::Role::leader && ready.entries.front().index <= storage.last_index()) {
    fail("leader append-only: leader " + node + " overwrote its log" +
         at(ready.entries.front().index));
  }
  check_log_matching(storage, ready);
}

// Log Matching by induction: every (index, term) ever stored anywhere maps to
// one payload and one predecessor term; so equal (index, term) pairs imply
// equal prefixes.
void InvariantChecker::check_log_matching(const raft::MemoryStorage& storage,
                                          const raft::Ready& ready) {
  raft::Term prev_term = storage.term_at(ready.entries.front().index - 1);
  for (const auto& entry : ready.entries) {
    Identity identity{prev_term, std::string(entry.payload.view()), entry.type};
    auto [it, inserted] = entries_.try_emplace({entry.index, entry.term}, identity);
    if (!inserted && !(it->second == identity)) {
      fail("log matching: two different entries with term " + std::to_string(entry.term) +
           at(entry.index));
    }
    prev_term = entry.term;
  }
}

void InvariantChecker::check_vote(const raft::NodeId& node, const raft::HardState& state) {
  if (state.vote.empty()) return;
  auto [it, inserted] = votes_.try_emplace({node, state.term}, state.vote);
  if (!inserted && it->second != state.vote) {
    fail("one vote per term: " + node + " voted for " + it->second + " and " + state.vote +
         " in term " + std::to_string(state.term));
  }
}

void InvariantChecker::on_apply(const raft::NodeId& node, const std::vector<raft::Entry>& entries) {
  auto& history = history_[node];
  for (const auto& entry : entries) {
    if (entry.index != history.applied + 1) {
      fail(node + " applied out of order" + at(entry.index));
    }
    history.applied = entry.index;
    std::pair<raft::Term, std::string> applied{entry.term, std::string(entry.payload.view())};
    if (entry.index > committed_.size() + 1) {
      fail(node + " applied beyond the known committed prefix" + at(entry.index));
    } else if (entry.index == committed_.size() + 1) {
      committed_.push_back(std::move(applied));
    } else if (committed_[entry.index - 1] != applied) {
      fail("state machine safety: " + node + " applied a different entry" + at(entry.index));
    }
  }
}

void InvariantChecker::on_restart(const raft::NodeId& node) {
  history_[node] = NodeHistory{};
}

void InvariantChecker::after_step(const std::vector<const raft::Raft*>& live) {
  for (const auto* raft : live) check_node(*raft);
}

void InvariantChecker::check_node(const raft::Raft& raft) {
  auto& history = history_[raft.id()];
  if (raft.term() < history.term) fail(raft.id() + "'s term went down");
  if (raft.commit() < history.commit) fail(raft.id() + "'s commit index went down");
  if (raft.commit() > raft.log().last_index()) fail(raft.id() + " committed past its last entry");
  history.term = raft.term();
  history.commit = raft.commit();
  check_committed_prefix(raft, history);
  if (raft.role() == raft::Role::leader) {
    check_leader(raft, history);
  } else {
    history.leading.reset();
  }
}

// Every node's log agrees with the committed prefix up to its own commit
// index; the longest commit seen extends the prefix.
void InvariantChecker::check_committed_prefix(const raft::Raft& raft, NodeHistory& history) {
  const auto& log = raft.log();
  for (raft::Index i = history.checked_commit + 1; i <= raft.commit(); ++i) {
    if (i > committed_.size()) {
      record_committed(log, raft.commit());
      break;
    }
    const auto& entry = log.at(i);
    if (committed_[i - 1] != std::pair{entry.term, std::string(entry.payload.view())}) {
      fail("state machine safety: " + raft.id() + " committed a different entry" + at(i));
    }
  }
  history.checked_commit = raft.commit();
}

void InvariantChecker::record_committed(const raft::Log& log, raft::Index commit) {
  for (raft::Index i = committed_.size() + 1; i <= commit; ++i) {
    committed_.emplace_back(log.at(i).term, std::string(log.at(i).payload.view()));
  }
}

void InvariantChecker::check_leader(const raft::Raft& raft, NodeHistory& history) {
  auto [it, inserted] = leaders_.try_emplace(raft.term(), raft.id());
  if (!inserted && it->second != raft.id()) {
    fail("election safety: " + it->second + " and " + raft.id() + " both lead term " +
         std::to_string(raft.term()));
  }
  const auto& log = raft.log();
  if (!history.leading || history.leading->term != raft.term()) {
    // Leader completeness: a new leader holds every committed entry.
    for (raft::Index i = 1; i <= committed_.size(); ++i) {
      if (log.term_at(i) != committed_[i - 1].first ||
          log.at(i).payload.view() != committed_[i - 1].second) {
        fail("leader completeness: " + raft.id() + " leads term " + std::to_string(raft.term()) +
             " without committed entry" + at(i));
        break;
      }
    }
  } else if (log.last_index() < history.leading->last_index ||
             log.term_at(history.leading->last_index) != history.leading->last_term) {
    fail("leader append-only: leader " + raft.id() + " lost entries");
  }
  history.leading = LeaderWatch{raft.term(), log.last_index(), log.last_term()};
}

}  // namespace conflux::sim
