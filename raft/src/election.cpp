// Leader election: timeouts, pre-vote, votes (Raft §5.2, §5.4.1; thesis §9.6).
#include <conflux/raft/raft.hpp>

namespace conflux::raft {

// Raft §5.2: "If election timeout elapses without receiving AppendEntries RPC
// from current leader or granting vote to candidate: convert to candidate."
// Thesis §4.2.2: "a server that is not part of its own latest configuration
// should still start new elections, as it might still be needed until the
// C_new entry is committed"; its own vote does not count (campaign): it is
// a voter of the configuration in force at its commit index or of a later
// one (after a restart the stored commit may lag far behind the entry that
// made it a voter). Once it knows C_new committed, it no longer campaigns;
// nor does a learner or a node that is joining (thesis §4.2.1), committed
// configuration or not.
bool Raft::may_campaign() const {
  if (configuration().is_voter(config_.id)) return true;
  return configs_.latest_index() > commit_ && configs_.voter_since(commit_, config_.id);
}

void Raft::tick_election() {
  if (++election_elapsed_ < randomized_election_ticks_) return;
  if (term_ >= max_term || !may_campaign()) {  // types.hpp: max_term
    if (role_ != Role::follower) become_follower(term_, {});
    reset_election_timer();
    return;
  }
  if (config_.pre_vote) {
    become_pre_candidate();
  } else {
    become_candidate();
  }
}

// Asks every voter for its (pre-)vote. A pre-vote asks about term_ + 1
// without moving to it (thesis §9.6). While the configuration is joint, a
// win needs a majority of each half (thesis §4.3). With a quorum of one,
// the node wins at once.
void Raft::campaign(bool pre_vote, bool transfer) {
  votes_.clear();
  votes_[config_.id] = true;
  if (has_quorum(configuration(), [this](const NodeId& id) { return id == config_.id; })) {
    if (pre_vote) {
      become_candidate();
    } else {
      become_leader();
    }
    return;
  }
  const Term term = pre_vote ? term_ + 1 : term_;
  for (const auto& peer : peers_) {
    if (!configuration().is_voter(peer)) continue;
    send(peer, term,
         VoteRequest{.pre_vote = pre_vote,
                     .last_log_index = log_.last_index(),
                     .last_log_term = log_.last_term(),
                     .transfer = transfer});
  }
}

// With check-quorum, the promise not to vote lasts election_ticks_min
// ticks from the leader's last message. A node that restarts in a term it
// may have heard a leader in does not know when that was, so it keeps the
// promise for its first election_ticks_min ticks: leases (reads.cpp) rest
// on it.
bool Raft::heard_from_leader_recently() const {
  const auto min = static_cast<std::uint64_t>(config_.election_ticks_min);
  if (config_.check_quorum && restored_term_ > 0 && ticks_ < min) return true;
  return !leader_.empty() && election_elapsed_ < config_.election_ticks_min;
}

// Raft §5.2 and §5.4.1: grant at most one vote per term, first come first
// served, and only to a candidate whose log is at least as up-to-date as
// ours. A pre-vote is granted under the same log rule when the candidate's
// term is ahead of ours; it records nothing (thesis §9.6).
void Raft::handle_vote_request(const Message& m, const VoteRequest& request) {
  const bool up_to_date = log_.is_up_to_date(request.last_log_index, request.last_log_term);
  bool granted = false;
  if (request.pre_vote) {
    granted = m.term > term_ && up_to_date;
  } else {
    granted = (vote_.empty() || vote_ == m.from) && up_to_date;
    if (granted) {
      vote_ = m.from;
      election_elapsed_ = 0;
    }
  }
  // A granted pre-vote answers in the term asked about, so that the
  // candidate can tell it apart from answers to earlier rounds.
  send(m.from, granted && request.pre_vote ? m.term : term_,
       VoteResponse{.pre_vote = request.pre_vote, .granted = granted});
}

void Raft::handle_vote_response(const Message& m, const VoteResponse& response) {
  const Role expected = response.pre_vote ? Role::pre_candidate : Role::candidate;
  if (role_ != expected) return;
  if (response.pre_vote && response.granted && m.term != term_ + 1) return;
  votes_.emplace(m.from, response.granted);  // the first answer of each peer counts
  const auto answered = [this](bool granted) {
    return [this, granted](const NodeId& id) {
      auto vote = votes_.find(id);
      return vote != votes_.end() && vote->second == granted;
    };
  };
  if (has_quorum(configuration(), answered(true))) {
    if (response.pre_vote) {
      become_candidate();
    } else {
      become_leader();
    }
  } else if (!has_quorum(configuration(), [&](const NodeId& id) { return !answered(false)(id); })) {
    become_follower(term_, {});  // lost: wait for a leader or the next timeout
  }
}

}  // namespace conflux::raft
