// Leader election: timeouts, pre-vote, votes (Raft §5.2, §5.4.1; thesis §9.6).
#include <conflux/raft/raft.hpp>

namespace conflux::raft {

// Raft §5.2: "If election timeout elapses without receiving AppendEntries RPC
// from current leader or granting vote to candidate: convert to candidate."
void Raft::tick_election() {
  if (++election_elapsed_ < randomized_election_ticks_) return;
  if (term_ >= max_term) {  // types.hpp: no term left to campaign in
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

// Asks every peer for its (pre-)vote. A pre-vote asks about term_ + 1 without
// moving to it (thesis §9.6). With a quorum of one, the node wins at once.
void Raft::campaign(bool pre_vote) {
  votes_.clear();
  votes_[config_.id] = true;
  if (votes_.size() >= quorum()) {
    if (pre_vote) {
      become_candidate();
    } else {
      become_leader();
    }
    return;
  }
  const Term term = pre_vote ? term_ + 1 : term_;
  for (const auto& peer : peers_) {
    send(peer, term,
         VoteRequest{.pre_vote = pre_vote,
                     .last_log_index = log_.last_index(),
                     .last_log_term = log_.last_term()});
  }
}

bool Raft::heard_from_leader_recently() const {
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
  std::size_t granted = 0;
  for (const auto& [peer, vote] : votes_) granted += vote ? 1 : 0;
  if (granted >= quorum()) {
    if (response.pre_vote) {
      become_candidate();
    } else {
      become_leader();
    }
  } else if (votes_.size() - granted >= quorum()) {
    become_follower(term_, {});  // lost: wait for a leader or the next timeout
  }
}

}  // namespace conflux::raft
