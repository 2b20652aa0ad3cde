// Log replication: the leader's side and the follower's side of AppendEntries
// (Raft §5.3, §5.4.2, §8), with check-quorum (thesis §6.2) and pipelined,
// batched sends (thesis §10.2.1).
#include <algorithm>
#include <cassert>
#include <conflux/raft/raft.hpp>
#include <stdexcept>
#include <string>

namespace conflux::raft {
namespace {

// State machine safety (Raft §5.4.3) broken: a leader asks this node to
// replace an entry it already knows committed. Nothing can make that right
// here; the driver must stop the node (lib/ stops acknowledging, the
// simulation reports the seed) rather than apply a different history.
[[noreturn]] void throw_committed_conflict(const Message& m, const Entry& entry) {
  throw std::logic_error("Raft invariant broken: \"" + m.from + "\" (term " +
                         std::to_string(m.term) + ") sent entry " + std::to_string(entry.index) +
                         " of term " + std::to_string(entry.term) +
                         ", which conflicts with this node's committed entry there");
}

}  // namespace

void Raft::tick_heartbeat() {
  if (++heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    for (auto& [peer, progress] : progress_) progress.on_heartbeat();
    broadcast_read_round();
  }
  tick_transfer();
  if (++election_elapsed_ >= config_.election_ticks_min) {
    election_elapsed_ = 0;
    if (config_.check_quorum) check_quorum();
  }
}

// Thesis §6.2: a leader that has not heard from a majority within an election
// timeout steps down, so that clients stuck on its side of a partition find
// the real leader instead of waiting forever. While joint, it must hear
// from a majority of each half (thesis §4.3).
void Raft::check_quorum() {
  const bool active = has_quorum(configuration(), [this](const NodeId& id) {
    auto progress = progress_.find(id);
    return id == config_.id || (progress != progress_.end() && progress->second.recent_active());
  });
  for (auto& [peer, progress] : progress_) progress.set_recent_active(false);
  if (!active) become_follower(term_, {});
}

void Raft::append_local(EntryType type, Payload payload) {
  log_.append(Entry{term_, log_.last_index() + 1, type, std::move(payload)});
}

// Raft §5.3, receiver implementation of AppendEntries. The prevLog check runs
// on every request, heartbeats included.
void Raft::handle_append_request(const Message& m, AppendRequest request) {
  if (role_ != Role::follower) become_follower(term_, m.from);  // §5.2: a leader exists
  leader_ = m.from;
  election_elapsed_ = 0;
  if (request.prev_log_index < log_.base_index()) skip_compacted(m, request);
  if (!log_.matches(request.prev_log_index, request.prev_log_term)) {
    auto rejection = reject_append(request.prev_log_index);
    rejection.round = request.round;
    send(m.from, rejection);
    return;
  }
  bool reconfigured = false;
  for (auto& entry : request.entries) {
    if (entry.index <= log_.last_index()) {
      if (log_.term_at(entry.index) == entry.term) continue;  // already have it
      // §5.3: delete the existing entry and all that follow it, from the
      // *first* conflict on. Committed entries never conflict (§5.4). The
      // configurations they held are undone with them (thesis §4.1).
      if (entry.index <= commit_) throw_committed_conflict(m, entry);
      log_.truncate_from(entry.index);
      configs_.truncate_from(entry.index);
      reconfigured = true;
      stable_ = std::min(stable_, entry.index - 1);
      handed_ = std::min(handed_, entry.index - 1);  // the next Ready writes the new tail
    }
    // Thesis §4.1: a configuration takes effect as soon as it is appended
    // (validate() checked that it decodes).
    if (entry.type == EntryType::configuration) {
      configs_.append(entry.index, *decode_configuration(entry.payload.view()));
      reconfigured = true;
    }
    log_.append(std::move(entry));
  }
  if (reconfigured) configuration_changed();
  // §5.3: commitIndex = min(leaderCommit, index of last new entry). "Last new
  // entry" is what this request proved to match, not our whole log.
  const Index last_new = request.prev_log_index + request.entries.size();
  commit_ = std::max(commit_, std::min(request.leader_commit, last_new));
  send(m.from, AppendResponse{.success = true,
                              .match_index = last_new,
                              .rejected_index = 0,
                              .conflict_index = 0,
                              .conflict_term = 0,
                              .round = request.round});
}

// The request starts inside what this node compacted into a snapshot. Those
// entries are committed, so every leader holds them (§5.4.1, Leader
// Completeness): the request matches up to the base, and only the entries
// after it are new.
void Raft::skip_compacted(const Message& m, AppendRequest& request) const {
  const Index base = log_.base_index();
  auto& entries = request.entries;
  const auto covered = std::min<std::size_t>(entries.size(), base - request.prev_log_index);
  if (covered > 0 && covered == base - request.prev_log_index &&
      entries[covered - 1].term != log_.base_term()) {
    throw_committed_conflict(m, entries[covered - 1]);
  }
  entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(covered));
  request.prev_log_index = base;
  request.prev_log_term = log_.base_term();
}

// The conflict hint of §5.3 ("the follower can include the term of the
// conflicting entry and the first index it stores for that term").
AppendResponse Raft::reject_append(Index prev_log_index) const {
  AppendResponse response{.success = false,
                          .match_index = 0,
                          .rejected_index = prev_log_index,
                          .conflict_index = log_.last_index() + 1,
                          .conflict_term = 0};
  if (prev_log_index <= log_.last_index()) {
    response.conflict_term = log_.term_at(prev_log_index).value_or(0);
    response.conflict_index = log_.first_index_of_term(response.conflict_term, prev_log_index);
  }
  return response;
}

void Raft::handle_append_response(const Message& m, const AppendResponse& response) {
  if (role_ != Role::leader) return;
  auto found = progress_.find(m.from);
  if (found == progress_.end()) return;  // no longer a member
  Progress& progress = found->second;
  progress.set_recent_active(true);
  // Any answer in this term, a rejection too, acknowledges this leader.
  // A round not yet sent cannot be answered: a peer that claims one is
  // ignored on that point rather than allowed to confirm reads.
  if (response.round <= round_) {
    auto& answered = answered_[m.from];
    if (response.round > answered) {
      answered = response.round;
      extend_lease();
    }
    confirm_reads();
  }
  if (response.success) {
    if (response.match_index > log_.last_index()) return;  // cannot be ours: ignore
    // maybe_commit() may change the configuration, and with it progress_.
    if (progress.on_ack(response.match_index)) {
      maybe_send_timeout_now(m.from, progress);
      maybe_commit();
    }
  } else if (response.rejected_index >= 1 && response.rejected_index <= log_.last_index()) {
    // (A leader never shortens its log: an index beyond it is no request of
    // ours, and would send the follower probing past the log's end.)
    progress.on_reject(response.rejected_index, resume_index(response));
  }
}

// Where to resume after a rejection: just past our last entry of the
// follower's conflicting term if we have that term, else the first index the
// follower holds for it. Never past the rejected index.
Index Raft::resume_index(const AppendResponse& response) const {
  Index resume = response.conflict_index;
  if (response.conflict_term != 0) {
    if (auto last = log_.last_index_of_term(response.conflict_term, response.rejected_index)) {
      resume = *last + 1;
    }
  }
  return std::clamp<Index>(resume, 1, response.rejected_index);
}

// Raft §5.3/§5.4.2: an entry is committed once a majority stores it, but only
// entries of the current term are committed by counting replicas; earlier
// ones commit indirectly, by the Log Matching Property. The leader counts
// itself only for entries it has persisted (stable_), and only where it is
// a voter: a leader being removed manages a configuration that does not
// include it (thesis §4.2.2). While joint, both halves must agree (§4.3).
void Raft::maybe_commit() {
  const Index candidate = quorum_index(configuration(), [this](const NodeId& id) -> Index {
    if (id == config_.id) return stable_;
    auto progress = progress_.find(id);
    return progress == progress_.end() ? 0 : progress->second.match();
  });
  if (candidate > commit_ && log_.term_at(candidate) == term_) {
    commit_ = candidate;
    after_commit();
    start_read_rounds();  // the first commit of the term makes reads possible
  }
}

bool Raft::wants_to_send(const Progress& progress) const {
  if (progress.state() != ProgressState::replicate) return progress.can_send();
  return progress.next() <= log_.last_index() && progress.can_send();
}

// A follower in replicate mode that has not heard of a commit it could
// apply (capped at match: it holds nothing beyond) is told at once, so that
// performs waiting on it complete without waiting for the next heartbeat.
bool Raft::needs_commit_news(const Progress& progress) const {
  return progress.state() == ProgressState::replicate &&
         std::min(commit_, progress.match()) > progress.sent_commit();
}

// The one predicate for "this follower needs a message now" (has_ready and
// flush_appends both ask it).
bool Raft::needs_message(const Progress& progress) const {
  return wants_to_send(progress) || needs_commit_news(progress);
}

// Probe mode sends empty AppendEntries at next - 1 until the follower
// accepts one: finding the match point costs no payload (as LogCabin's
// suppressBulkData). Replicate mode streams entries from next; its
// heartbeats anchor at match, which the follower is known to hold, so that
// they never collide with pipelined messages still in flight. A follower
// that needs an entry compacted away is sent the snapshot instead (§7),
// whose chunks are its heartbeats.
void Raft::send_append(const NodeId& to, Progress& progress, bool heartbeat) {
  if (progress.state() == ProgressState::snapshot) {
    if (progress.can_send()) send_chunk(to, progress);
    return;
  }
  const bool probe = progress.state() == ProgressState::probe;
  const bool entries = !probe && wants_to_send(progress);
  if (!heartbeat && !wants_to_send(progress)) return;
  const Index prev = probe || entries ? progress.next() - 1 : progress.match();
  const auto prev_term = log_.term_at(prev);
  if (!prev_term) return progress.become_snapshot(snapshot_);
  AppendRequest request{.prev_log_index = prev,
                        .prev_log_term = *prev_term,
                        .entries = {},
                        .leader_commit = commit_,
                        .round = round_};
  if (entries) {
    request.entries = log_.slice(prev + 1, log_.last_index(), config_.max_bytes_per_message,
                                 config_.max_entries_per_message);
    progress.on_sent(request.entries.back().index);
  } else if (probe) {
    progress.on_probe_sent();
  }
  progress.on_commit_sent(std::min(commit_, prev + request.entries.size()));
  send(to, std::move(request));
}

// Fills every follower's window with entries; a follower with nothing to
// be sent but commit news gets an empty AppendEntries carrying it.
void Raft::flush_appends() {
  for (auto& [peer, progress] : progress_) {
    while (needs_message(progress)) send_append(peer, progress, !wants_to_send(progress));
  }
}

}  // namespace conflux::raft
