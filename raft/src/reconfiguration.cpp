// Membership changes through the log (thesis ch. 4, joint consensus §4.3)
// and leadership transfer (thesis §3.10). docs/design.md says why joint
// consensus rather than single-server changes.
#include <algorithm>
#include <conflux/raft/raft.hpp>
#include <stdexcept>

namespace conflux::raft {
namespace {

Configuration bootstrap_configuration(const Config& config) {
  Configuration out;
  out.voters = config.voters;
  std::sort(out.voters.begin(), out.voters.end());
  out.addresses = config.addresses;
  return out;
}

}  // namespace

// The configuration in force at the snapshot (the bootstrap list when none
// was ever recorded), then one per configuration entry after it.
void Raft::restore_configurations() {
  const bool recorded = !snapshot_.configuration.empty();
  configs_ = ConfigurationLog(snapshot_.index,
                              recorded ? snapshot_.configuration : bootstrap_configuration(config_),
                              recorded);
  for (Index i = snapshot_.index + 1; i <= log_.last_index(); ++i) {
    const Entry& entry = log_.at(i);
    if (entry.type != EntryType::configuration) continue;
    auto config = decode_configuration(entry.payload.view());
    if (!config) {
      throw std::invalid_argument("the stored entry " + std::to_string(i) +
                                  " holds no valid configuration");
    }
    configs_.append(i, std::move(*config));
  }
  configuration_changed();
}

// Leader: thesis §4.1, the new configuration is in force once appended.
void Raft::append_configuration(const Configuration& config) {
  append_local(EntryType::configuration, Payload(encode(config)));
  configs_.append(log_.last_index(), config);
  configuration_changed();
}

// Brings peers_ and, on a leader, the progress of each member in line with
// the newest configuration: added members are probed from the end of the
// log (Raft §5.3), removed ones no longer get entries (thesis §4.2.2).
void Raft::configuration_changed() {
  const auto members = configuration().members();
  peers_.clear();
  for (const auto& id : members) {
    if (id != config_.id) peers_.push_back(id);
  }
  if (role_ != Role::leader) return;
  for (auto it = progress_.begin(); it != progress_.end();) {
    const bool member = std::binary_search(peers_.begin(), peers_.end(), it->first);
    it = member ? std::next(it) : progress_.erase(it);
  }
  for (const auto& peer : peers_) {
    progress_.try_emplace(peer, log_.last_index() + 1, config_.max_inflight_messages,
                          config_.max_inflight_chunks);
  }
  if (!transfer_target_.empty() && !configuration().is_voter(transfer_target_)) {
    transfer_target_.clear();
  }
}

// Leader, once its commit index moved: a committed joint configuration is
// left at once by appending C_new (thesis §4.3); a leader that a committed
// C_new does not include steps down (thesis §4.2.2), having led until then.
void Raft::after_commit() {
  if (configs_.latest_index() > commit_) return;
  if (configuration().joint()) {
    append_configuration(leave_joint(configuration()));
  } else if (!configuration().is_voter(config_.id)) {
    become_follower(term_, {});
  }
}

std::optional<ProposeResult> Raft::refuse_proposal() const {
  if (role_ != Role::leader) return ProposeResult{.leader = leader_, .refusal = {}};
  if (!transfer_target_.empty()) {
    return ProposeResult{
        .leader = leader_,
        .refusal = "leadership is being transferred to \"" + transfer_target_ + "\" (thesis §3.10)",
        .busy = true};
  }
  return std::nullopt;
}

// Why `changes` cannot start now (empty when they can); each reason but the
// first is `busy`: it passes.
std::string Raft::refuse_change(const std::vector<MembershipChange>& changes) const {
  if (changes.empty()) return "no membership change was asked for";
  // Ongaro, raft-dev 2015: a new leader must commit an entry of its own term
  // before it changes the configuration, or an uncommitted change of a
  // deposed leader could overlap with its own.
  if (commit_ < term_start_) return "this leader has not yet committed an entry of its term";
  if (configs_.latest_index() > commit_ || configuration().joint()) {
    return "a membership change is already in progress";
  }
  for (const auto& change : changes) {
    if (change.kind != MembershipChange::Kind::promote) continue;
    auto progress = progress_.find(change.id);
    // Thesis §4.2.1: a learner becomes a voter only once it has caught up.
    if (progress != progress_.end() && progress->second.match() < commit_) {
      return "promote \"" + change.id + "\": it has not caught up (it holds entries up to " +
             std::to_string(progress->second.match()) + ", the commit index is " +
             std::to_string(commit_) + ")";
    }
  }
  return {};
}

ProposeResult Raft::change_membership(const std::vector<MembershipChange>& changes) {
  if (auto refused = refuse_proposal()) return *refused;
  std::string refusal = refuse_change(changes);
  ChangeOutcome outcome;
  if (refusal.empty()) {
    outcome = apply_changes(configuration(), changes);
    refusal = outcome.error;
  }
  if (!refusal.empty()) {
    const bool busy = !changes.empty() && outcome.error.empty();
    return ProposeResult{.leader = leader_, .refusal = std::move(refusal), .busy = busy};
  }
  append_configuration(outcome.next);
  return ProposeResult{.accepted = true,
                       .index = log_.last_index(),
                       .term = term_,
                       .leader = leader_,
                       .refusal = {}};
}

ProposeResult Raft::transfer_leadership(const NodeId& target) {
  if (auto refused = refuse_proposal()) return *refused;
  const auto refuse = [&](std::string why) {
    return ProposeResult{.leader = leader_, .refusal = std::move(why)};
  };
  if (target == config_.id) return refuse("\"" + target + "\" already leads");
  if (!configuration().is_voter(target) ||
      !std::binary_search(configuration().voters.begin(), configuration().voters.end(), target)) {
    return refuse("\"" + target + "\" is not a voter of the configuration");
  }
  transfer_target_ = target;
  transfer_elapsed_ = 0;
  timeout_now_sent_ = false;
  maybe_send_timeout_now(target, progress_.at(target));
  return ProposeResult{
      .accepted = true, .index = 0, .term = term_, .leader = leader_, .refusal = {}};
}

// Thesis §3.10: once the target holds the leader's whole log, it is told to
// campaign at once. Proposals stay refused, so the log cannot grow past it.
void Raft::maybe_send_timeout_now(const NodeId& peer, const Progress& progress) {
  if (peer != transfer_target_ || timeout_now_sent_) return;
  if (progress.match() != log_.last_index()) return;
  timeout_now_sent_ = true;
  lease_forfeited_ = true;  // the target's election ignores the lease (reads.cpp)
  send(peer, TimeoutNow{});
}

// Thesis §3.10: "if the transfer does not complete within ... an election
// timeout, the leader aborts the transfer and resumes accepting requests".
void Raft::tick_transfer() {
  if (transfer_target_.empty()) return;
  if (++transfer_elapsed_ >= config_.election_ticks_min) transfer_target_.clear();
}

// Thesis §3.10: the receiver starts an election at once, skipping pre-vote
// (its leader asked for it); its vote requests say so, which lets voters set
// their leader lease aside. Only a voter obeys, and only its own leader.
void Raft::handle_timeout_now(const Message& m) {
  if (m.from != leader_ || role_ != Role::follower) return;
  if (!may_campaign() || term_ >= max_term) return;
  become_candidate(true);
}

}  // namespace conflux::raft
