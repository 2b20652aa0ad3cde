// Linearizable reads without a log entry: ReadIndex (thesis §6.4).
//
// The leader serves a read at its commit index, but only once it knows
// that index is current and that it still leads:
//   1. it has committed an entry of its own term (thesis §6.4 step 1: until
//      then its commit index may lag the previous leader's);
//   2. it records its commit index as the read index;
//   3. it sends a heartbeat round and waits for a quorum to answer that
//      round or a later one (step 3): no other leader can have committed
//      anything before the read arrived that this index lacks;
//   4. the state machine serves the read once it has applied the index
//      (step 4, the driver's part).
// Every AppendEntries carries the leader's current round and every answer
// echoes it, so a read waits for answers to messages sent after it arrived,
// never before. Reads that arrive before a round is sent share it. A
// follower asks the leader for the index (ReadIndexRequest) and serves the
// read itself once it has applied that far.
//
// Lease reads (thesis §6.4.1) skip step 3 while the leader holds a lease. A
// follower that answers a heartbeat refuses to vote for election_ticks_min
// ticks after it (check-quorum, thesis §4.2.3; election.cpp keeps that
// promise across restarts). So once a quorum has answered a round sent at
// tick t, no other leader can be elected before a quorum's clocks have
// counted election_ticks_min - 1 ticks from t; the lease ends earlier, at
// t + lease_ticks (config.hpp bounds it for clock drift). A transfer's
// election ignores the refusal, so a leader that sent TimeoutNow holds no
// lease for the rest of its term.
#include <algorithm>
#include <conflux/raft/raft.hpp>

namespace conflux::raft {

void Raft::read_index(std::uint64_t id) {
  if (role_ == Role::leader) return queue_read(id, {});
  if (leader_.empty() || role_ != Role::follower) {
    read_states_.push_back(ReadState{id, 0});
    return;
  }
  forwarded_reads_[id] = ForwardedRead{leader_, ticks_};
  send(leader_, ReadIndexRequest{id});
}

void Raft::queue_read(std::uint64_t id, const NodeId& from) {
  if (holds_lease()) return release_read(id, from, commit_);
  reads_.push_back(PendingRead{id, from, 0, 0});
  start_read_rounds();
}

// Gives every read still without an index the commit index, and the next
// round to confirm it, once the commit index is known to be current.
void Raft::start_read_rounds() {
  if (role_ != Role::leader || commit_ < term_start_) return;
  // While a round is out, new reads wait for the next one, sent once it is
  // answered: a burst of reads costs one round, not one each.
  const bool outstanding = std::any_of(reads_.begin(), reads_.end(), [this](const PendingRead& r) {
    return r.round != 0 && r.round == round_;
  });
  for (auto& read : reads_) {
    if (read.round != 0) continue;
    read.index = commit_;
    read.round = round_ + 1;
    round_wanted_ = round_wanted_ || !outstanding;
  }
  confirm_reads();  // a lone voter is its own quorum
}

// A new round: every peer gets an AppendEntries carrying it, at once.
void Raft::broadcast_read_round() {
  ++round_;
  round_wanted_ = false;
  if (config_.lease_ticks > 0) rounds_sent_.emplace_back(round_, ticks_);
  for (auto& [peer, progress] : progress_) send_append(peer, progress, true);
}

// Releases, in order, every read whose round a quorum has answered; a
// leader counts itself where it is a voter (thesis §4.3 for joint ones).
void Raft::confirm_reads() {
  std::size_t done = 0;
  for (; done < reads_.size() && reads_[done].round != 0; ++done) {
    const auto round = reads_[done].round;
    const bool confirmed = has_quorum(configuration(), [&](const NodeId& id) {
      auto answered = answered_.find(id);
      return id == config_.id || (answered != answered_.end() && answered->second >= round);
    });
    if (!confirmed) break;
    release_read(reads_[done].id, reads_[done].from, reads_[done].index);
  }
  reads_.erase(reads_.begin(), reads_.begin() + static_cast<std::ptrdiff_t>(done));
  if (done > 0 && !reads_.empty() && reads_.front().round > round_) round_wanted_ = true;
}

void Raft::release_read(std::uint64_t id, const NodeId& from, Index index) {
  if (from.empty()) {
    read_states_.push_back(ReadState{id, index});
  } else {
    send(from, ReadIndexResponse{id, index});
  }
}

// Leadership changed: no pending read can be confirmed any more. Each is
// refused, so that its reader asks again, of whoever leads next.
void Raft::abandon_reads() {
  for (const auto& read : reads_) release_read(read.id, read.from, 0);
  reads_.clear();
  round_wanted_ = false;
  answered_.clear();
  rounds_sent_.clear();
  lease_until_ = 0;
  lease_forfeited_ = false;
  for (const auto& [id, read] : forwarded_reads_) read_states_.push_back(ReadState{id, 0});
  forwarded_reads_.clear();
}

// A request or its answer can be lost (the transport drops what it cannot
// queue; Raft retransmits, but reads are not retransmitted): refused after
// an election timeout, the read is asked again by the driver.
void Raft::expire_forwarded_reads() {
  const auto patience = static_cast<std::uint64_t>(config_.election_ticks_min);
  for (auto it = forwarded_reads_.begin(); it != forwarded_reads_.end();) {
    if (ticks_ - it->second.asked_at < patience) {
      ++it;
      continue;
    }
    read_states_.push_back(ReadState{it->first, 0});
    it = forwarded_reads_.erase(it);
  }
}

// Step 1 holds (the commit index is current), a quorum answered a round
// recently enough, and no transfer may have started an election.
bool Raft::holds_lease() const {
  return role_ == Role::leader && ticks_ < lease_until_ && commit_ >= term_start_ &&
         transfer_target_.empty() && !lease_forfeited_;
}

// A peer answered a later round: the newest round a quorum has answered
// (each voter's latest, this leader's own being the last sent) extends the
// lease from the tick it was sent.
void Raft::extend_lease() {
  if (config_.lease_ticks == 0) return;
  const auto confirmed = quorum_index(configuration(), [this](const NodeId& id) -> Index {
    if (id == config_.id) return round_;
    auto answered = answered_.find(id);
    return answered == answered_.end() ? 0 : answered->second;
  });
  while (!rounds_sent_.empty() && rounds_sent_.front().first < confirmed) rounds_sent_.pop_front();
  if (rounds_sent_.empty() || rounds_sent_.front().first != confirmed) return;
  const auto until = rounds_sent_.front().second + static_cast<std::uint64_t>(config_.lease_ticks);
  lease_until_ = std::max(lease_until_, until);
}

void Raft::handle_read_index(const Message& m, const ReadIndexRequest& request) {
  if (role_ != Role::leader) return send(m.from, ReadIndexResponse{request.id, 0});
  queue_read(request.id, m.from);
}

// Only the leader the read was asked of answers it; anything else is late
// or meant for an earlier life of this node.
void Raft::handle_read_index_response(const Message& m, const ReadIndexResponse& response) {
  auto read = forwarded_reads_.find(response.id);
  if (read == forwarded_reads_.end() || read->second.leader != m.from) return;
  forwarded_reads_.erase(read);
  read_states_.push_back(ReadState{response.id, response.index});
}

}  // namespace conflux::raft
