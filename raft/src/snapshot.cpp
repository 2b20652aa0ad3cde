// Snapshots (Raft §7; thesis ch. 5): compaction, the leader sending a
// snapshot in chunks, and the follower receiving and installing it.
//
// Chunks go by byte offset, as in LogCabin, with a window of them in flight
// (Progress, snapshot mode): the leader reads each chunk from its Storage
// only when the window has room, and a follower hands each chunk it accepts
// to its driver in the next Ready. So neither side ever holds more of a
// snapshot than the chunks in flight. docs/design.md compares this with
// etcd-io/raft and braft.
#include <algorithm>
#include <conflux/raft/raft.hpp>
#include <stdexcept>
#include <string>

namespace conflux::raft {
namespace {

std::string describe(const SnapshotMeta& meta) {
  return "snapshot (index " + std::to_string(meta.index) + ", term " + std::to_string(meta.term) +
         ", " + std::to_string(meta.size) + " bytes)";
}

}  // namespace

void Raft::compact(const SnapshotMeta& snapshot) {
  if (snapshot.index <= snapshot_.index) return;
  if (snapshot.index > applied_) {
    throw std::invalid_argument("cannot compact at " + std::to_string(snapshot.index) +
                                ": only entries up to " + std::to_string(applied_) +
                                " are applied");
  }
  if (log_.term_at(snapshot.index) != snapshot.term || snapshot.size == 0) {
    throw std::invalid_argument("cannot compact with " + describe(snapshot) +
                                ": the entry there has another term, or the snapshot is empty");
  }
  if (snapshot.configuration != configs_.at(snapshot.index)) {
    throw std::invalid_argument("cannot compact with " + describe(snapshot) +
                                ": its configuration is not configuration_at(" +
                                std::to_string(snapshot.index) + ")");
  }
  snapshot_ = snapshot;
  configs_.rebase(snapshot.index, snapshot.configuration);
  const Index keep_from =
      snapshot.index > config_.trailing_entries ? snapshot.index - config_.trailing_entries : 0;
  const Index base = std::max(log_.base_index(), keep_from);
  log_.compact_to(base);
  stable_ = std::max(stable_, snapshot.index);  // what the snapshot holds is durable
  handed_ = std::max(handed_, snapshot.index);
}

// Leader: the next chunk of the snapshot `progress` is sending. A storage
// that let go of that snapshot (it took a newer one) is sent the newest
// instead, from its first byte.
void Raft::send_chunk(const NodeId& to, Progress& progress) {
  const SnapshotMeta meta = progress.snapshot();
  const auto offset = progress.chunk_offset();
  auto data = storage_.read_snapshot(meta, offset, config_.max_bytes_per_message);
  if (!data) {
    // The newest one may not be in the storage yet: a snapshot this node
    // just received, whose Ready is still being written. Try again later.
    if (meta == snapshot_) return progress.wait_for_heartbeat();
    progress.become_snapshot(snapshot_);
    return;
  }
  if (data->empty() || data->size() > meta.size - offset) {
    throw std::logic_error("the storage read " + std::to_string(data->size()) + " bytes of " +
                           describe(meta) + " at offset " + std::to_string(offset));
  }
  const auto end = offset + data->size();
  progress.on_chunk_sent(end);
  // A snapshot written before configurations were stored in snapshots is
  // sent with the configuration this node knows at its index.
  send(to, SnapshotRequest{.index = meta.index,
                           .snapshot_term = meta.term,
                           .size = meta.size,
                           .offset = offset,
                           .data = std::move(*data),
                           .done = end == meta.size,
                           .configuration = meta.configuration.empty() ? configs_.at(meta.index)
                                                                       : meta.configuration});
}

// Follower: Raft §7's receiver, one chunk at a time. A chunk belongs to
// the snapshot being received only if it comes from the same leader in the
// same term (another leader's bytes for the same index need not be the
// same bytes) and starts where the received bytes end. Invariant: the
// offsets this node reports for one snapshot never decrease, unless it
// restarted (then it reports 0).
StepResult Raft::handle_snapshot_request(const Message& m, const SnapshotRequest& request) {
  if (role_ != Role::follower) become_follower(term_, m.from);  // §5.2: a leader exists
  leader_ = m.from;
  election_elapsed_ = 0;
  const SnapshotMeta meta{request.index, request.snapshot_term, request.size,
                          request.configuration};
  // §7: a snapshot that this node's committed log covers brings nothing.
  if (meta.index <= commit_) {
    if (incoming_ && incoming_->meta.index <= commit_) incoming_.reset();
    send(m.from, SnapshotResponse{.index = meta.index, .offset = meta.size, .match = commit_});
    return {};
  }
  bool same = incoming_ && incoming_->meta == meta && incoming_->leader == m.from &&
              incoming_->term == m.term;
  // A first chunk starts a snapshot afresh, unless it is a duplicate of the
  // one being received: what was received never goes back (the leader
  // trusts the offsets it was told).
  if (request.offset == 0 && !same) {
    incoming_ = Incoming{meta, m.from, m.term, 0};
    same = true;
  }
  if (!same || incoming_->received != request.offset) {
    const std::uint64_t expected = same ? incoming_->received : 0;
    send(m.from, SnapshotResponse{.index = meta.index, .offset = expected, .match = 0});
    return {StepError::unexpected_chunk, "chunk at offset " + std::to_string(request.offset) +
                                             " of " + describe(meta) + ", where offset " +
                                             std::to_string(expected) + " was expected"};
  }
  incoming_->received += request.data.size();
  chunks_.push_back(SnapshotChunk{meta, request.offset, request.data, request.done});
  if (!request.done) {
    send(m.from, SnapshotResponse{.index = meta.index, .offset = incoming_->received, .match = 0});
    return {};
  }
  incoming_.reset();
  install(meta);
  send(m.from, SnapshotResponse{.index = meta.index, .offset = meta.size, .match = meta.index});
  return {};
}

// Raft §7, receiver steps 6 and 7: "If existing log entry has same index and
// term as snapshot's last included entry, retain log entries following it";
// otherwise discard the entire log. The driver does the same to its storage
// when it installs the snapshot (ready.hpp). The snapshot's configuration
// is in force at its index (thesis §5.1), and those of the entries kept stay
// in force after it. Precondition: index > commit_.
void Raft::install(const SnapshotMeta& snapshot) {
  if (log_.matches(snapshot.index, snapshot.term)) {
    log_.compact_to(snapshot.index);
    stable_ = std::max(stable_, snapshot.index);
    handed_ = std::max(handed_, snapshot.index);
  } else {
    log_.reset(snapshot.index, snapshot.term);
    configs_.truncate_from(snapshot.index + 1);
    stable_ = snapshot.index;
    handed_ = snapshot.index;
  }
  configs_.rebase(snapshot.index, snapshot.configuration);
  configuration_changed();
  snapshot_ = snapshot;
  commit_ = snapshot.index;
  applied_ = snapshot.index;  // the state machine is restored from the snapshot
  applying_ = snapshot.index;
}

// Leader: a nonzero match ends the snapshot (or says it was not needed);
// otherwise the answer moves the window of chunks on.
void Raft::handle_snapshot_response(const Message& m, const SnapshotResponse& response) {
  if (role_ != Role::leader) return;
  auto found = progress_.find(m.from);
  if (found == progress_.end()) return;  // no longer a member
  Progress& progress = found->second;
  progress.set_recent_active(true);
  if (response.match != 0) {
    if (response.match > log_.last_index()) return;  // cannot be ours: ignore
    // maybe_commit() may change the configuration, and with it progress_.
    if (progress.on_ack(response.match)) {
      maybe_send_timeout_now(m.from, progress);
      maybe_commit();
    }
  } else if (progress.state() == ProgressState::snapshot &&
             response.index == progress.snapshot().index) {
    progress.on_chunk_ack(response.offset);
  }
}

}  // namespace conflux::raft
