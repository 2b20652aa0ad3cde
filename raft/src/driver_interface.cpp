// The driver-facing surface: inputs (tick, propose), the Ready/advance
// contract, and status.
#include <algorithm>
#include <conflux/raft/raft.hpp>
#include <stdexcept>

namespace conflux::raft {

void Raft::tick() {
  ++ticks_;
  if (role_ == Role::leader) {
    tick_heartbeat();
  } else {
    expire_forwarded_reads();
    tick_election();
  }
}

ProposeResult Raft::propose(Payload payload, EntryType type) {
  if (type != EntryType::normal && type != EntryType::session) {
    throw std::invalid_argument("propose: only normal and session entries are the application's");
  }
  if (auto refused = refuse_proposal()) return *refused;
  append_local(type, std::move(payload));
  return ProposeResult{.accepted = true,
                       .index = log_.last_index(),
                       .term = term_,
                       .leader = leader_,
                       .refusal = {}};
}

bool Raft::has_ready() const {
  if (!early_messages_.empty() || !messages_.empty() || !chunks_.empty()) return true;
  if (round_wanted_ || !read_states_.empty()) return true;
  if (handed_ < log_.last_index() || applying_ < commit_) return true;
  if (HardState{term_, vote_, commit_} != saved_hard_state_) return true;
  for (const auto& [peer, progress] : progress_) {
    if (needs_message(progress)) return true;
  }
  return false;
}

Ready Raft::ready() {
  ++outstanding_;
  if (round_wanted_) broadcast_read_round();
  flush_appends();
  Ready ready;
  ready.snapshot_chunks = std::move(chunks_);
  chunks_.clear();
  if (handed_ < log_.last_index()) {
    ready.entries = log_.slice(handed_ + 1, log_.last_index(), SIZE_MAX);
    handed_ = log_.last_index();
  }
  // The hard state is written before the entries (ready.hpp), so its commit
  // must not reach them: the stored entries there may be a stale tail that
  // these overwrite, and a crash in between would restart on that tail as
  // committed. The full commit follows in a later Ready.
  HardState state{term_, vote_, commit_};
  if (!ready.entries.empty()) state.commit = std::min(commit_, ready.entries.front().index - 1);
  if (state != saved_hard_state_) {
    ready.hard_state = state;
    saved_hard_state_ = state;
  }
  ready.early_messages = std::move(early_messages_);
  early_messages_.clear();
  ready.messages = std::move(messages_);
  messages_.clear();
  if (applying_ < commit_) {
    ready.committed = log_.slice(applying_ + 1, commit_, config_.max_committed_bytes_per_ready);
    if (!ready.committed.empty()) applying_ = ready.committed.back().index;
  }
  ready.reads = std::move(read_states_);
  read_states_.clear();
  return ready;
}

void Raft::advance(const Ready& ready) {
  if (outstanding_ == 0) throw std::logic_error("Raft::advance() without a Ready");
  --outstanding_;
  if (ready.hard_state) durable_term_ = std::max(durable_term_, ready.hard_state->term);
  // The persisted entries count as stable only if the log still holds them:
  // a truncation since ready() replaced them (Log Matching: index and term
  // identify the whole prefix). Readys advance in order, so every earlier
  // Ready's writes are durable too.
  if (!ready.entries.empty()) {
    const Entry& last = ready.entries.back();
    if (log_.term_at(last.index) == last.term) stable_ = std::max(stable_, last.index);
  }
  // max: a snapshot installed since ready() applied more than this Ready.
  if (!ready.committed.empty()) applied_ = std::max(applied_, ready.committed.back().index);
  if (role_ == Role::leader) maybe_commit();  // the leader's own copy now counts
}

Status Raft::status() const {
  Status status{.id = config_.id,
                .role = role_,
                .term = term_,
                .leader = leader_,
                .vote = vote_,
                .commit = commit_,
                .applied = applied_,
                .last_index = log_.last_index(),
                .last_term = log_.last_term(),
                .snapshot = snapshot_,
                .first_index = log_.first_index(),
                .elections = elections_,
                .leaderships = leaderships_,
                .configuration = configuration(),
                .configuration_index = configs_.latest_index(),
                .configuration_committed = configs_.latest_index() <= commit_,
                .transfer_target = transfer_target_,
                .peers = {}};
  for (const auto& [peer, progress] : progress_) {
    status.peers.push_back(PeerStatus{.id = peer,
                                      .match = progress.match(),
                                      .next = progress.next(),
                                      .state = progress.state(),
                                      .inflight = progress.inflight(),
                                      .recent_active = progress.recent_active(),
                                      .voter = configuration().is_voter(peer)});
  }
  return status;
}

}  // namespace conflux::raft
