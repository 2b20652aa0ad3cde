// Membership changes and leadership transfers (thesis ch. 4, §3.10), run
// as reserved methods: a perform of "conflux.add_member" and the others
// goes to the leader like any perform (forwarded from a follower), which
// asks its core instead of running a user method; a change completes when
// its configuration entry is applied here. A change refused for now (another
// in progress, a learner not caught up) is asked again at each tick until
// the perform's deadline.
#include <boost/json/serialize.hpp>

#include "engine.hpp"

namespace conflux::detail {

using Outcome = transport::PerformReply::Outcome;

namespace {

using Kind = raft::MembershipChange::Kind;

/// Reads [id] or [id, address, as_learner]; nullopt if the arguments do not fit.
std::optional<raft::MembershipChange> read_change(const std::string& method,
                                                  const boost::json::array& args) {
  const bool add = method == method_add_member;
  if (args.size() != (add ? 3u : 1u) || !args[0].is_string()) return std::nullopt;
  raft::MembershipChange change;
  change.id = std::string(args[0].get_string());
  if (add) {
    if (!args[1].is_string() || !args[2].is_bool()) return std::nullopt;
    change.address = std::string(args[1].get_string());
    change.kind = args[2].get_bool() ? Kind::add_learner : Kind::add_voter;
  } else {
    change.kind = method == method_promote ? Kind::promote : Kind::remove;
  }
  return change;
}

/// Whether `change` adds a member that `config` already holds in the same
/// role at the same address: a join asked again after its answer was lost.
bool already_added(const raft::Configuration& config, const raft::MembershipChange& change) {
  const bool in_role = change.kind == Kind::add_voter     ? config.is_voter(change.id)
                       : change.kind == Kind::add_learner ? config.is_learner(change.id)
                                                          : false;
  const auto address = config.addresses.find(change.id);
  return in_role && address != config.addresses.end() && address->second == change.address;
}

}  // namespace

bool is_membership_method(std::string_view name) {
  return name == method_add_member || name == method_remove_member || name == method_promote ||
         name == method_transfer_leadership;
}

Engine::MethodResult Engine::run_membership(const std::string& method,
                                            const boost::json::array& args) {
  raft::ProposeResult result;
  if (method == method_transfer_leadership) {
    if (args.size() != 1 || !args[0].is_string()) {
      return MethodResult{Outcome::failed, 0, 0, errc::bad_arguments, method + " takes [id]"};
    }
    result = raft_->transfer_leadership(std::string(args[0].get_string()));
  } else {
    auto change = read_change(method, args);
    // Idempotent: done once the configuration that added it is committed.
    if (change && already_added(raft_->configuration(), *change)) {
      if (raft_->status().configuration_committed) {
        return MethodResult{Outcome::null_result, 0, 0, {}, {}};
      }
      return MethodResult{Outcome::failed, 0, 0, errc::change_in_progress,
                          "the change that adds \"" + change->id + "\" is not yet committed"};
    }
    // Thesis §4.2.1: a voter joins as a learner and is promoted once it
    // has caught up (continue_membership() asks again for the promotion).
    if (change && change->kind == Kind::add_voter) {
      change->kind =
          raft_->configuration().is_learner(change->id) ? Kind::promote : Kind::add_learner;
    }
    if (!change) {
      return MethodResult{Outcome::failed, 0, 0, errc::bad_arguments,
                          method + (method == method_add_member ? " takes [id, address, as_learner]"
                                                                : " takes [id]")};
    }
    result = raft_->change_membership({*change});
  }
  if (result.not_leader()) return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
  if (!result.accepted) {
    return MethodResult{Outcome::failed, 0, 0,
                        result.busy ? errc::change_in_progress : errc::membership_refused,
                        result.refusal};
  }
  log_(LogLevel::info, method + " " + boost::json::serialize(args) + " accepted");
  if (method == method_transfer_leadership) return MethodResult{Outcome::null_result, 0, 0, {}, {}};
  return MethodResult{Outcome::proposed, result.index, result.term, {}, {}};
}

// A membership call refused for now waits for the next tick and is asked
// again (dispatch_waiting), until its deadline (expire()).
bool Engine::retry_later(std::uint64_t id, errc code) {
  auto it = pending_.find(id);
  if (code != errc::change_in_progress || it == pending_.end() ||
      !is_membership_method(it->second.method) || it->second.deadline <= hooks_.now()) {
    return false;
  }
  Pending& p = it->second;
  p.stage = Stage::waiting_leader;
  p.refused_by = raft_->leader();
  return true;
}

// A membership call whose first step is done but not the whole: a transfer
// (thesis §3.10) is done when this node hears of its target as leader; a
// voter added as a learner is then promoted (thesis §4.2.1). Until then,
// or the deadline, the perform waits.
bool Engine::continue_membership(std::uint64_t id) {
  auto& p = pending_.at(id);
  if (p.method == method_transfer_leadership && p.stage != Stage::transferring) {
    p.stage = Stage::transferring;
    p.forwarded_to = std::string(p.args.at(0).get_string());  // the target
    return true;
  }
  const bool add_voter = p.method == method_add_member && p.args.size() == 3 &&
                         p.args[2].is_bool() && !p.args[2].get_bool();
  if (add_voter && raft_->configuration().is_learner(std::string(p.args[0].get_string()))) {
    Pending next = p;
    take(id);                            // out of the proposed index's waiters
    next.stage = Stage::waiting_leader;  // once more, to promote it
    next.refused_by = raft_->leader();   // at the next tick
    pending_.emplace(id, std::move(next));
    return true;
  }
  return false;
}

void Engine::settle_transfers() {
  std::vector<std::uint64_t> done;
  for (const auto& [id, p] : pending_) {
    if (p.stage == Stage::transferring && raft_->leader() == p.forwarded_to) done.push_back(id);
  }
  for (const auto id : done) complete(id, nullptr);
}

}  // namespace conflux::detail
