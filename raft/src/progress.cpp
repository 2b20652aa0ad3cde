#include <algorithm>
#include <cassert>
#include <conflux/raft/progress.hpp>

namespace conflux::raft {

std::string_view to_string(ProgressState state) {
  switch (state) {
    case ProgressState::probe:
      return "probe";
    case ProgressState::replicate:
      return "replicate";
    case ProgressState::snapshot:
      return "snapshot";
  }
  return "unknown";
}

bool Progress::can_send() const {
  switch (state_) {
    case ProgressState::probe:
      return !probe_sent_;
    case ProgressState::replicate:
      return inflight_.size() < max_inflight_;
    case ProgressState::snapshot:
      return !probe_sent_ && chunk_next_ < snapshot_.size &&
             inflight_.size() < max_inflight_chunks_;
  }
  return false;
}

bool Progress::on_ack(Index index) {
  if (index < match_) return false;  // stale: a later acknowledgement already arrived
  const bool advanced = index > match_;
  match_ = index;
  acked_since_heartbeat_ = acked_since_heartbeat_ || advanced;
  if (state_ == ProgressState::replicate) {
    while (!inflight_.empty() && inflight_.front() <= match_) inflight_.pop_front();
    if (next_ <= match_) next_ = match_ + 1;
  } else if (state_ == ProgressState::probe || match_ >= snapshot_.index) {
    become_replicate();  // the probe found the match point, or the snapshot is in
  }
  return advanced;
}

bool Progress::on_reject(Index rejected, Index resume_next) {
  if (state_ == ProgressState::snapshot) return false;  // answers an append sent before
  if (state_ == ProgressState::replicate && rejected < match_) return false;
  if (state_ == ProgressState::probe && rejected + 1 != next_) return false;
  assert(resume_next >= 1 && resume_next <= rejected);
  // A rejection at or below match means the follower lost entries it had
  // acknowledged (its storage was wiped). Lowering match is safe: commit
  // never goes down, it only waits for fresh acknowledgements.
  if (resume_next <= match_) match_ = resume_next - 1;
  become_probe(resume_next);
  return true;
}

void Progress::on_sent(Index last) {
  assert(state_ == ProgressState::replicate && last >= next_);
  next_ = last + 1;
  inflight_.push_back(last);
}

void Progress::on_heartbeat() {
  probe_sent_ = false;
  if (!inflight_.empty() && !acked_since_heartbeat_) {
    if (state_ == ProgressState::replicate) {
      become_probe(match_ + 1);
    } else if (state_ == ProgressState::snapshot) {
      chunk_next_ = chunk_acked_;
      inflight_.clear();
    }
  }
  acked_since_heartbeat_ = false;
}

void Progress::become_snapshot(const SnapshotMeta& meta) {
  state_ = ProgressState::snapshot;
  snapshot_ = meta;
  probe_sent_ = false;
  next_ = meta.index + 1;
  chunk_next_ = 0;
  chunk_acked_ = 0;
  inflight_.clear();
}

void Progress::on_chunk_sent(std::uint64_t end) {
  assert(state_ == ProgressState::snapshot && end > chunk_next_ && end <= snapshot_.size);
  chunk_next_ = end;
  inflight_.push_back(end);
}

void Progress::on_chunk_ack(std::uint64_t offset) {
  // Only an install (on_ack) ends a snapshot.
  if (state_ != ProgressState::snapshot || offset >= snapshot_.size) return;
  if (offset < chunk_acked_) {
    // The follower holds fewer bytes than it once said: it restarted, and
    // perhaps received a first chunk again since. Or this is an older
    // answer, reordered: resending from there costs bytes, and the
    // follower's answers to the resent chunks carry the leader forward
    // again. Ignoring it instead could wait forever on bytes the follower
    // no longer has.
    chunk_next_ = chunk_acked_ = offset;
    inflight_.clear();
    return;
  }
  if (offset == chunk_acked_) return;
  // The follower may hold more than this leader sent since it last started
  // the snapshot over (it had sent them before): sending resumes there.
  chunk_acked_ = offset;
  chunk_next_ = std::max(chunk_next_, offset);
  acked_since_heartbeat_ = true;
  while (!inflight_.empty() && inflight_.front() <= offset) inflight_.pop_front();
}

void Progress::become_replicate() {
  state_ = ProgressState::replicate;
  probe_sent_ = false;
  inflight_.clear();
  next_ = match_ + 1;
}

void Progress::become_probe(Index next) {
  state_ = ProgressState::probe;
  next_ = next;
  probe_sent_ = false;
  inflight_.clear();
}

}  // namespace conflux::raft
