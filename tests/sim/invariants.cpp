#include "sim/invariants.hpp"

#include <algorithm>

namespace conflux::sim {
namespace {

std::string at(raft::Index index) {
  return " at index " + std::to_string(index);
}

std::string encode(raft::Index index, raft::Term term, std::string_view payload) {
  return std::to_string(index) + ' ' + std::to_string(term) + ' ' + std::string(payload) + '\n';
}

}  // namespace

std::string encode_applied(const raft::Entry& entry) {
  return encode(entry.index, entry.term, entry.payload.view());
}

void InvariantChecker::fail(std::string what) {
  if (!failure_) failure_ = std::move(what);
}

void InvariantChecker::on_read(const raft::NodeId& node, raft::Index committed_before,
                               raft::Index index) {
  ++reads_;
  if (index < committed_before) {
    fail("stale read: " + node + " was given read index " + std::to_string(index) +
         " although entries up to " + std::to_string(committed_before) +
         " were committed before the read was asked");
  }
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
  // Entries the storage's snapshot already holds are skipped, not written.
  const auto first_new = std::max(ready.entries.front().index, storage.snapshot().index + 1);
  if (role == raft::Role::leader && first_new <= ready.entries.back().index &&
      first_new <= storage.last_index()) {
    fail("leader append-only: leader " + node + " overwrote its log" + at(first_new));
  }
  check_log_matching(storage, ready);
}

// Log Matching by induction: every (index, term) ever stored anywhere maps to
// one payload and one predecessor term; so equal (index, term) pairs imply
// equal prefixes.
void InvariantChecker::check_log_matching(const raft::MemoryStorage& storage,
                                          const raft::Ready& ready) {
  const auto snapshot = storage.snapshot().index;
  const auto front = ready.entries.front().index;
  raft::Term prev_term = front - 1 >= snapshot ? storage.term_at(front - 1) : 0;
  for (const auto& entry : ready.entries) {
    if (entry.index <= snapshot) {  // skipped by the storage: its snapshot holds it
      prev_term = entry.term;
      continue;
    }
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

void InvariantChecker::on_restart(const raft::NodeId& node, const raft::SnapshotMeta& snapshot,
                                  const std::string& state) {
  history_[node] = NodeHistory{};
  if (snapshot.index > 0) on_install(node, snapshot, state);
}

void InvariantChecker::on_install(const raft::NodeId& node, const raft::SnapshotMeta& snapshot,
                                  const std::string& state) {
  check_snapshot(node, snapshot, state);
  auto& history = history_[node];
  history.applied = snapshot.index;
  history.checked_commit = std::max(history.checked_commit, snapshot.index);
}

// A state restored from a snapshot equals the committed prefix replayed:
// the chunks were reassembled in order, whole, from the right snapshot.
void InvariantChecker::check_snapshot(const raft::NodeId& node, const raft::SnapshotMeta& snapshot,
                                      const std::string& state) {
  if (snapshot.index > committed_.size()) {
    return fail(node + " holds a snapshot beyond every applied entry" + at(snapshot.index));
  }
  std::string replayed;
  for (raft::Index i = 1; i <= snapshot.index; ++i) {
    replayed += encode(i, committed_[i - 1].first, committed_[i - 1].second);
  }
  if (state != replayed || state.size() != snapshot.size ||
      committed_[snapshot.index - 1].first != snapshot.term) {
    fail(node + " restored a snapshot that differs from the committed prefix replayed" +
         at(snapshot.index));
  }
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
  // Entries compacted away were checked when applied, or as a snapshot.
  const auto first = std::max(history.checked_commit + 1, log.first_index());
  for (raft::Index i = first; i <= raft.commit(); ++i) {
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
  if (committed_.size() + 1 < log.first_index()) {
    return fail("a node compacted entries never seen applied" + at(committed_.size() + 1));
  }
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
    // Leader completeness: a new leader holds every committed entry (those
    // it compacted are in its snapshot, checked when applied or installed).
    for (raft::Index i = log.first_index(); i <= committed_.size(); ++i) {
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
