// Human-readable names of the core's enums, for logs and status output.
#include <conflux/raft/message.hpp>
#include <conflux/raft/ready.hpp>
#include <conflux/raft/types.hpp>

namespace conflux::raft {

std::string_view to_string(Role role) {
  switch (role) {
    case Role::follower:
      return "follower";
    case Role::pre_candidate:
      return "pre_candidate";
    case Role::candidate:
      return "candidate";
    case Role::leader:
      return "leader";
  }
  return "unknown";
}

std::string_view to_string(EntryType type) {
  switch (type) {
    case EntryType::normal:
      return "normal";
    case EntryType::no_op:
      return "no_op";
    case EntryType::configuration:
      return "configuration";
    case EntryType::session:
      return "session";
  }
  return "unknown";
}

std::string_view to_string(StepError error) {
  switch (error) {
    case StepError::none:
      return "none";
    case StepError::wrong_recipient:
      return "wrong_recipient";
    case StepError::unknown_sender:
      return "unknown_sender";
    case StepError::malformed:
      return "malformed";
    case StepError::term_too_large:
      return "term_too_large";
    case StepError::unexpected_chunk:
      return "unexpected_chunk";
  }
  return "unknown";
}

std::string_view type_name(const Message& message) {
  if (auto* r = std::get_if<VoteRequest>(&message.body)) return r->pre_vote ? "pre_vote" : "vote";
  if (auto* r = std::get_if<VoteResponse>(&message.body)) {
    return r->pre_vote ? "pre_vote_response" : "vote_response";
  }
  if (std::holds_alternative<AppendRequest>(message.body)) return "append";
  if (std::holds_alternative<AppendResponse>(message.body)) return "append_response";
  if (std::holds_alternative<SnapshotRequest>(message.body)) return "snapshot";
  if (std::holds_alternative<SnapshotResponse>(message.body)) return "snapshot_response";
  if (std::holds_alternative<ReadIndexRequest>(message.body)) return "read_index";
  if (std::holds_alternative<ReadIndexResponse>(message.body)) return "read_index_response";
  return "timeout_now";
}

std::string ProposeResult::error() const {
  if (accepted) return {};
  if (!refusal.empty()) return refusal;
  return leader.empty() ? "not leader, leader unknown" : "not leader, leader is " + leader;
}

}  // namespace conflux::raft
