// Construction, the term rules every message passes through, and role
// transitions (Raft §5.1, §5.2).
#include <algorithm>
#include <conflux/raft/raft.hpp>
#include <stdexcept>

namespace conflux::raft {
namespace {

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : "; ") + part;
  return out;
}

Config validated(Config config) {
  if (auto errors = config.validate(); !errors.empty()) {
    throw std::invalid_argument("invalid raft config: " + join(errors));
  }
  return config;
}

bool is_pre_vote_request(const Message& m) {
  auto* request = std::get_if<VoteRequest>(&m.body);
  return request && request->pre_vote;
}

StepResult malformed(std::string reason) {
  return {StepError::malformed, std::move(reason)};
}

// types.hpp: terms and indices never exceed 2^53-1 on the wire, in any field.
bool exceeds_wire_integer(const Message& m) {
  auto big = [](std::uint64_t x) { return x > max_wire_integer; };
  if (big(m.term)) return true;
  if (auto* r = std::get_if<VoteRequest>(&m.body)) {
    return big(r->last_log_index) || big(r->last_log_term);
  }
  if (auto* r = std::get_if<AppendRequest>(&m.body)) {
    return big(r->prev_log_index) || big(r->prev_log_term) || big(r->leader_commit) ||
           big(r->round);
  }
  if (auto* r = std::get_if<AppendResponse>(&m.body)) {
    return big(r->match_index) || big(r->rejected_index) || big(r->conflict_index) ||
           big(r->conflict_term) || big(r->round);
  }
  if (auto* r = std::get_if<ReadIndexRequest>(&m.body)) return big(r->id);
  if (auto* r = std::get_if<ReadIndexResponse>(&m.body)) return big(r->id) || big(r->index);
  if (auto* r = std::get_if<SnapshotRequest>(&m.body)) {
    return big(r->index) || big(r->snapshot_term) || big(r->size) || big(r->offset);
  }
  if (auto* r = std::get_if<SnapshotResponse>(&m.body)) {
    return big(r->index) || big(r->offset) || big(r->match);
  }
  return false;
}

// SnapshotRequest's invariants (message.hpp). An oversized chunk, or one
// claiming to end the snapshot when it does not, could make a follower
// install a truncated snapshot or write past its end.
StepResult validate_chunk(const Message& m, const SnapshotRequest& request) {
  if (request.index == 0 || request.snapshot_term == 0) {
    return malformed("a snapshot chunk for index 0 or term 0");
  }
  if (request.snapshot_term > m.term) return malformed("the snapshot's term is beyond the term");
  if (!request.configuration.validate().empty()) {
    return malformed("the snapshot's configuration is invalid");
  }
  if (request.size == 0 || request.data.empty()) return malformed("an empty snapshot chunk");
  const auto length = request.data.size();
  if (length > request.size || request.offset > request.size - length) {
    return malformed("chunk [" + std::to_string(request.offset) + ", +" + std::to_string(length) +
                     ") exceeds the snapshot's " + std::to_string(request.size) + " bytes");
  }
  if (request.done != (request.offset + length == request.size)) {
    return malformed(request.done ? "a chunk marked last that does not end the snapshot"
                                  : "the snapshot's last chunk is not marked last");
  }
  return {};
}

StepResult validate_entries(const Message& m, const AppendRequest& request) {
  Index expected = request.prev_log_index + 1;
  Term previous = request.prev_log_term;
  for (const auto& entry : request.entries) {
    if (entry.index != expected) {
      return malformed("entry index " + std::to_string(entry.index) + " where " +
                       std::to_string(expected) + " was expected");
    }
    if (entry.type == EntryType::configuration && !decode_configuration(entry.payload.view())) {
      return malformed("entry " + std::to_string(entry.index) +
                       " holds no valid configuration (membership.hpp: canonical text only)");
    }
    if (entry.term < previous || entry.term > m.term) {
      return malformed("entry " + std::to_string(entry.index) + " has term " +
                       std::to_string(entry.term) + ", outside [" + std::to_string(previous) +
                       ", " + std::to_string(m.term) + "]");
    }
    previous = entry.term;
    ++expected;
  }
  if (expected - 1 > max_wire_integer) return malformed("entry index exceeds 2^53-1");
  return {};
}

// types.hpp: max_term and max_term_jump. A refused message is a lost one,
// which Raft tolerates; an adopted hostile term could end elections forever.
StepResult check_term(Term term, Term current) {
  if (term > max_term) {
    return {StepError::term_too_large, "term " + std::to_string(term) +
                                           " exceeds the largest usable term " +
                                           std::to_string(max_term)};
  }
  if (term > current && term - current > max_term_jump) {
    return {StepError::term_too_large, "term " + std::to_string(term) +
                                           " is more than 2^32 ahead of this node's term " +
                                           std::to_string(current)};
  }
  return {};
}

}  // namespace

Raft::Raft(Config config, const Storage& storage)
    : config_(validated(std::move(config))), storage_(storage), random_(config_.seed) {
  snapshot_ = storage.snapshot();
  if (snapshot_.index > 0 && (snapshot_.term == 0 || snapshot_.size == 0)) {
    throw std::invalid_argument("the stored snapshot at index " + std::to_string(snapshot_.index) +
                                " has term 0 or no bytes");
  }
  log_ = Log(snapshot_.index, snapshot_.term, storage.entries());
  const HardState state = storage.hard_state();
  if (state.term > max_term) {
    throw std::invalid_argument("stored term " + std::to_string(state.term) +
                                " exceeds the largest usable term " + std::to_string(max_term) +
                                " (the hard state is corrupt or was written by a hostile peer)");
  }
  // A Ready writes an installed snapshot before its hard state (ready.hpp),
  // so a crash between the two leaves a snapshot of a term the hard state
  // does not have yet. The node was in that term: it restarts in it, with
  // no vote (a vote leaves only once its term is durable), and its next
  // Ready writes the term. Entries are written after the hard state, so a
  // stored entry beyond the stored term is corruption.
  const Term term = std::max(state.term, snapshot_.term);
  if (log_.last_term() > term) {
    throw std::invalid_argument("the last stored entry has term " +
                                std::to_string(log_.last_term()) + ", beyond the stored term " +
                                std::to_string(term));
  }
  if (state.commit > log_.last_index()) {
    throw std::invalid_argument("stored commit index " + std::to_string(state.commit) +
                                " is beyond the last stored entry " +
                                std::to_string(log_.last_index()));
  }
  term_ = term;
  restored_term_ = term;
  durable_term_ = state.term;
  vote_ = term == state.term ? state.vote : NodeId();
  commit_ = std::max(state.commit, snapshot_.index);
  applied_ = snapshot_.index;
  applying_ = applied_;
  stable_ = log_.last_index();
  handed_ = stable_;
  saved_hard_state_ = state;
  restore_configurations();
  become_follower(term_, {});
  // A lone voter needs nobody's vote and nobody can disrupt it: it leads at
  // once instead of waiting out an election timeout.
  const Configuration& members = configuration();
  if (!members.joint() && members.voters == std::vector<NodeId>{config_.id} && term_ < max_term) {
    become_candidate();
  }
}

StepResult Raft::validate(const Message& m) const {
  if (m.to != config_.id) return {StepError::wrong_recipient, "addressed to \"" + m.to + "\""};
  // Any other sender is heard: a leader this node does not know yet (a
  // joining node learns its configuration from the leader's log), and a
  // candidate whose configuration this node has not received yet (votes
  // are safe to grant whatever the voter's configuration, thesis §4.3).
  // A removed server is kept from disrupting by pre-vote and the leader
  // lease (thesis §4.2.3, should_ignore_higher_term).
  if (m.from.empty() || m.from == config_.id) {
    return {StepError::unknown_sender, "sent by this node itself, or by no one"};
  }
  if (exceeds_wire_integer(m)) return malformed("a term or index exceeds 2^53-1");
  if (auto result = check_term(m.term, term_); !result.ok()) return result;
  if (auto* request = std::get_if<AppendRequest>(&m.body)) {
    if (request->prev_log_term > m.term) return malformed("prev_log_term is beyond the term");
    return validate_entries(m, *request);
  }
  if (auto* request = std::get_if<VoteRequest>(&m.body)) {
    if (request->last_log_term > m.term) return malformed("last_log_term is beyond the term");
  }
  if (auto* request = std::get_if<SnapshotRequest>(&m.body)) return validate_chunk(m, *request);
  return {};
}

StepResult Raft::step(Message m) {
  const auto explain = [&m](StepResult result) {
    result.reason = "a " + std::string(type_name(m)) + " message from \"" + m.from + "\" in term " +
                    std::to_string(m.term) + ": " + result.reason;
    return result;
  };
  if (auto result = validate(m); !result.ok()) return explain(std::move(result));
  if (m.term > term_) {
    if (should_ignore_higher_term(m)) return {};
    auto* vote = std::get_if<VoteResponse>(&m.body);
    const bool own_future_term = vote && vote->pre_vote && vote->granted;
    if (!is_pre_vote_request(m) && !own_future_term) {
      // Raft §5.1: a higher term makes any node a follower of that term.
      const bool from_leader = std::holds_alternative<AppendRequest>(m.body);
      become_follower(m.term, from_leader ? m.from : NodeId{});
    }
  } else if (m.term < term_) {
    handle_stale_term(m);
    return {};
  }
  if (auto result = dispatch(m); !result.ok()) return explain(std::move(result));
  return {};
}

// Thesis §4.2.3 and §9.6: a node that has heard from a leader within the
// minimum election timeout neither grants a (pre-)vote nor adopts the term
// of the candidate asking for it; this keeps a rejoining or partitioned
// node from deposing a healthy leader. A granted pre-vote response carries
// the term we asked about, but must match our next term to be current.
bool Raft::should_ignore_higher_term(const Message& m) const {
  if (auto* request = std::get_if<VoteRequest>(&m.body)) {
    // A transfer's election was asked for by the leader (thesis §3.10).
    const bool lease_applies = !request->transfer && (request->pre_vote || config_.check_quorum);
    return lease_applies && heard_from_leader_recently();
  }
  if (auto* vote = std::get_if<VoteResponse>(&m.body); vote && vote->pre_vote && vote->granted) {
    return role_ != Role::pre_candidate || m.term != term_ + 1;
  }
  return false;
}

// Raft §5.1: "If a server receives a request with a stale term number, it
// rejects the request." The reply carries our term so that the sender
// (a deposed leader or a lagging candidate) steps down.
void Raft::handle_stale_term(const Message& m) {
  if (auto* request = std::get_if<AppendRequest>(&m.body)) {
    send(m.from, AppendResponse{.success = false,
                                .match_index = 0,
                                .rejected_index = request->prev_log_index,
                                .conflict_index = 0,
                                .conflict_term = 0});
  } else if (auto* vote = std::get_if<VoteRequest>(&m.body)) {
    send(m.from, VoteResponse{.pre_vote = vote->pre_vote, .granted = false});
  } else if (auto* chunk = std::get_if<SnapshotRequest>(&m.body)) {
    send(m.from, SnapshotResponse{.index = chunk->index, .offset = 0, .match = 0});
  }  // a stale TimeoutNow comes from a deposed leader: nothing to do
}

// Takes the body (an append's entries) out of `m`; its header stays.
StepResult Raft::dispatch(Message& m) {
  return std::visit(
      [&](auto& body) -> StepResult {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Body, VoteRequest>) {
          handle_vote_request(m, body);
        } else if constexpr (std::is_same_v<Body, VoteResponse>) {
          handle_vote_response(m, body);
        } else if constexpr (std::is_same_v<Body, AppendRequest>) {
          handle_append_request(m, std::move(body));
        } else if constexpr (std::is_same_v<Body, AppendResponse>) {
          handle_append_response(m, body);
        } else if constexpr (std::is_same_v<Body, SnapshotRequest>) {
          return handle_snapshot_request(m, body);
        } else if constexpr (std::is_same_v<Body, SnapshotResponse>) {
          handle_snapshot_response(m, body);
        } else if constexpr (std::is_same_v<Body, ReadIndexRequest>) {
          handle_read_index(m, body);
        } else if constexpr (std::is_same_v<Body, ReadIndexResponse>) {
          handle_read_index_response(m, body);
        } else {
          handle_timeout_now(m);
        }
        return {};
      },
      m.body);
}

void Raft::become_follower(Term term, const NodeId& leader) {
  if (role_ != Role::follower || term != term_ || leader != leader_) abandon_reads();
  if (term != term_) {
    term_ = term;
    vote_.clear();
  }
  role_ = Role::follower;
  leader_ = leader;
  votes_.clear();
  progress_.clear();
  transfer_target_.clear();
  reset_election_timer();
}

void Raft::become_pre_candidate() {
  abandon_reads();
  role_ = Role::pre_candidate;
  leader_.clear();
  reset_election_timer();
  campaign(true, false);
}

void Raft::become_candidate(bool transfer) {
  abandon_reads();
  role_ = Role::candidate;
  leader_.clear();
  ++term_;
  vote_ = config_.id;  // Raft §5.2: a candidate votes for itself
  ++elections_;
  reset_election_timer();
  campaign(false, transfer);
}

void Raft::become_leader() {
  role_ = Role::leader;
  leader_ = config_.id;
  ++leaderships_;
  votes_.clear();
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  progress_.clear();
  term_start_ = log_.last_index() + 1;
  configuration_changed();  // Raft §5.3: every member's nextIndex is term_start_
  // Raft §8: commit an entry of the new term at once, which also commits
  // every earlier entry and tells the leader where its commit index is. The
  // first leader of a cluster makes that entry its bootstrap configuration,
  // so that from then on the log says who the members are.
  if (configs_.logged()) {
    append_local(EntryType::no_op, Payload{});
  } else {
    append_configuration(configuration());
  }
}

void Raft::reset_election_timer() {
  election_elapsed_ = 0;
  randomized_election_ticks_ =
      static_cast<int>(random_.uniform(static_cast<std::uint64_t>(config_.election_ticks_min),
                                       static_cast<std::uint64_t>(config_.election_ticks_max)));
}

void Raft::send(const NodeId& to, MessageBody body) {
  send(to, term_, std::move(body));
}

// The one place that decides which messages may leave before the Ready's
// writes are durable (ready.hpp): a leader's AppendEntries and snapshot
// chunks, and nothing else; and those only once their term is durable. A
// leader elected by votes made it durable before asking for them, but a
// lone voter leads without asking: had its appends left before its term
// was durable, a crash could reuse the term for other entries at the same
// indices (Log Matching, on its learners).
void Raft::send(const NodeId& to, Term term, MessageBody body) {
  const bool leader_data =
      std::holds_alternative<AppendRequest>(body) || std::holds_alternative<SnapshotRequest>(body);
  const bool early = leader_data && term <= durable_term_;
  (early ? early_messages_ : messages_).push_back(Message{config_.id, to, term, std::move(body)});
}

}  // namespace conflux::raft
