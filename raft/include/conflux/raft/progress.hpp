#pragma once
// What a leader knows about one follower's log (Raft §5.3 nextIndex and
// matchIndex), plus the flow control that decides when to send (thesis
// §10.2.1: pipelining, batching).

#include <conflux/raft/snapshot.hpp>
#include <conflux/raft/types.hpp>
#include <cstddef>
#include <deque>

namespace conflux::raft {

enum class ProgressState : std::uint8_t {
  /// The leader does not know where the follower's log matches: one
  /// AppendEntries at a time, walking next back on each rejection.
  probe,
  /// The follower's log matches up to `match`: entries stream optimistically,
  /// several messages in flight.
  replicate,
  /// The follower needs entries the leader has compacted away (Raft §7): it
  /// is sent a snapshot, chunk by chunk, several chunks in flight.
  snapshot,
};

std::string_view to_string(ProgressState state);

class Progress {
 public:
  Progress(Index next, std::size_t max_inflight, std::size_t max_inflight_chunks)
      : next_(next), max_inflight_(max_inflight), max_inflight_chunks_(max_inflight_chunks) {}

  // Invariant: match < next (in snapshot mode, next is the index just past
  // the snapshot being sent). match only grows, except on a rejection at or
  // below it: the follower lost entries it had acknowledged (a wiped disk),
  // or a reordered, stale rejection of an earlier probe. Lowering match is
  // always safe: commit never goes down, it waits for fresh acknowledgements.
  Index match() const { return match_; }
  Index next() const { return next_; }
  ProgressState state() const { return state_; }
  std::size_t inflight() const { return inflight_.size(); }

  /// True when the leader may send now: in probe mode, when no probe is
  /// waiting for an answer; in replicate mode, while the window has room;
  /// in snapshot mode, while chunks remain and the window has room.
  bool can_send() const;

  /// The follower's log matches up to `index`. Switches probe -> replicate,
  /// and snapshot -> replicate once index reaches the snapshot's. Returns
  /// true when match advanced.
  bool on_ack(Index index);
  /// The follower rejected an append whose prev index was `rejected`; the
  /// leader should resume at `resume_next`. Returns false when the rejection
  /// is stale (the leader has since moved on) and must be ignored.
  bool on_reject(Index rejected, Index resume_next);

  /// Records that entries up to `last` were sent. Precondition: replicate mode.
  void on_sent(Index last);
  /// Records that a probe was sent; the next waits for an answer or a heartbeat.
  void on_probe_sent() { probe_sent_ = true; }
  /// Heartbeat time: allows another probe. If nothing was acknowledged since
  /// the previous heartbeat although messages are in flight, assume they
  /// were lost: replicate mode falls back to probing from match + 1, and
  /// snapshot mode resends from the last acknowledged offset.
  void on_heartbeat();

  /// Starts sending snapshot `meta` from its first byte (Raft §7).
  void become_snapshot(const SnapshotMeta& meta);
  /// Snapshot mode: the snapshot being sent, and the offset of its next chunk.
  const SnapshotMeta& snapshot() const { return snapshot_; }
  std::uint64_t chunk_offset() const { return chunk_next_; }
  /// The snapshot cannot be read yet (the storage is still installing it):
  /// no chunk goes before the next heartbeat.
  void wait_for_heartbeat() { probe_sent_ = true; }
  /// Records that the chunk ending at byte `end` was sent.
  void on_chunk_sent(std::uint64_t end);
  /// The follower holds `offset` bytes of the snapshot being sent (perhaps
  /// more than sent since the snapshot last started over): sending resumes
  /// there. A smaller offset than it said before means that it lost bytes
  /// (it restarted), or is an older answer, reordered: sending resumes from
  /// there too, and later answers move it forward again.
  void on_chunk_ack(std::uint64_t offset);

  /// The commit index this follower was last told (etcd's SentCommit):
  /// a follower applies only what it hears is committed, so a leader tells
  /// it of a new commit without waiting for the next heartbeat.
  Index sent_commit() const { return sent_commit_; }
  void on_commit_sent(Index commit) { sent_commit_ = commit; }

  /// Check-quorum bookkeeping (thesis §6.2).
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool active) { recent_active_ = active; }

 private:
  void become_probe(Index next);
  void become_replicate();

  Index match_ = 0;
  Index next_;
  Index sent_commit_ = 0;
  ProgressState state_ = ProgressState::probe;
  bool probe_sent_ = false;
  bool recent_active_ = false;
  bool acked_since_heartbeat_ = false;
  std::size_t max_inflight_;
  std::size_t max_inflight_chunks_;
  // Per message in flight, ascending: its last index (replicate mode), or
  // the byte offset just past its chunk (snapshot mode).
  std::deque<std::uint64_t> inflight_;
  SnapshotMeta snapshot_;          // snapshot mode only
  std::uint64_t chunk_next_ = 0;   // next byte to send
  std::uint64_t chunk_acked_ = 0;  // bytes the follower is known to hold
};

}  // namespace conflux::raft
