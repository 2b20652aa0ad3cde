#include <cassert>
#include <conflux/raft/progress.hpp>

namespace conflux::raft {

std::string_view to_string(ProgressState state) {
  return state == ProgressState::probe ? "probe" : "replicate";
}

bool Progress::can_send() const {
  if (state_ == ProgressState::probe) return !probe_sent_;
  return inflight_.size() < max_inflight_;
}

bool Progress::on_ack(Index index) {
  if (index < match_) return false;  // stale: a later acknowledgement already arrived
  const bool advanced = index > match_;
  match_ = index;
  acked_since_heartbeat_ = acked_since_heartbeat_ || advanced;
  while (!inflight_.empty() && inflight_.front() <= match_) inflight_.pop_front();
  if (state_ == ProgressState::probe) {
    // The probe found the match point: stream from just past it.
    state_ = ProgressState::replicate;
    probe_sent_ = false;
    inflight_.clear();
    next_ = match_ + 1;
  } else if (next_ <= match_) {
    next_ = match_ + 1;
  }
  return advanced;
}

bool Progress::on_reject(Index rejected, Index resume_next) {
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
  if (state_ == ProgressState::replicate && !inflight_.empty() && !acked_since_heartbeat_) {
    become_probe(match_ + 1);
  }
  acked_since_heartbeat_ = false;
}

void Progress::become_probe(Index next) {
  state_ = ProgressState::probe;
  next_ = next;
  probe_sent_ = false;
  inflight_.clear();
}

}  // namespace conflux::raft
