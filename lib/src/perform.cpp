// The life of a perform: it waits for a leader; on the leader its method
// runs against the provisional state and the action is proposed; elsewhere
// it is forwarded to the leader, which answers with where it proposed the
// action. Either way it completes here, once this node has applied the
// entry at that index: with the action if the entry has the expected term,
// with errc::leadership_lost if another entry took its place.
#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "carriable.hpp"
#include "node_impl.hpp"

namespace conflux {

using Stage = detail::Pending::Stage;
using Outcome = transport::PerformReply::Outcome;

namespace {

errc code_named(const std::string& name) {
  for (int i = static_cast<int>(errc::unknown_method); i <= static_cast<int>(errc::no_leader);
       ++i) {
    if (name == to_string(static_cast<errc>(i))) return static_cast<errc>(i);
  }
  return errc::method_failed;
}

}  // namespace

void Node::Impl::accept_call(detail::PerformCall call) {
  const auto id = next_id++;
  // A timeout of zero fails at once; any later deadline is checked each tick.
  const bool expired = call.deadline <= call.started;
  // Checked here, on every node alike: arguments that could not be forwarded
  // are refused the same way whether this node leads or not.
  auto problem = detail::arguments_problem(call.args);
  pending.emplace(id, detail::Pending{.stage = Stage::waiting_leader,
                                      .call = std::move(call),
                                      .forwarded_to = {},
                                      .refused_by = {},
                                      .index = 0,
                                      .term = 0});
  if (problem) return fail(id, errc::bad_arguments, *problem);
  if (expired) fail(id, errc::timeout, "timed out before the action was committed");
}

// Sends every perform still waiting for a leader to the one now known.
void Node::Impl::dispatch_waiting() {
  const auto leader = raft->leader();
  if (leader.empty()) return;
  std::vector<std::uint64_t> waiting;
  for (const auto& [id, p] : pending) {
    if (p.stage == Stage::waiting_leader) waiting.push_back(id);
  }
  const bool leader_reachable = leader != options.id && reachable(leader);
  for (const auto id : waiting) {
    if (leader == options.id) {
      run_on_leader(id);
    } else if (pending.at(id).refused_by != leader && leader_reachable) {
      forward(id, leader);
    }
  }
}

// A perform is forwarded only over a live link: one sent to a leader that
// is down would end as outcome_unknown once another leader is elected,
// while a perform that waits here certainly was not proposed and goes to
// whichever leader is reachable next.
bool Node::Impl::reachable(const raft::NodeId& peer) const {
  if (isolated) return false;
  for (const auto& status : channel->status()) {
    if (status.id == peer) return status.connected;
  }
  return false;
}

// REFERENCE.md: the leader runs the method synchronously against its
// provisional state; an error goes back to the caller, null appends
// nothing, anything else is the action to append. The reducer is tried on
// the action first, so an action it would refuse is never appended.
Node::Impl::MethodResult Node::Impl::run_method(const std::string& name,
                                                const boost::json::array& args) {
  if (raft->role() != raft::Role::leader) return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
  const auto method = options.methods.find(name);
  if (method == options.methods.end()) {
    return MethodResult{Outcome::failed, 0, 0, errc::unknown_method,
                        name + " is not a registered method"};
  }
  machine.sync(raft->log());
  boost::json::value action;
  try {
    action = method->second(machine.provisional(), args);
    if (action.is_null()) return MethodResult{Outcome::null_result, 0, 0, {}, {}};
  } catch (const std::exception& error) {
    return MethodResult{Outcome::failed, 0, 0, errc::method_failed, error.what()};
  } catch (...) {
    return MethodResult{Outcome::failed, 0, 0, errc::method_failed,
                        "the method threw a non-standard exception"};
  }
  // Every replica applies the action parsed from these bytes, so the leader
  // does too; an action that does not survive the trip (NaN, too deep, too
  // large) is refused here instead of jamming replication.
  std::string payload = boost::json::serialize(action);
  if (auto problem = detail::action_problem(payload, action))
    return MethodResult{Outcome::failed, 0, 0, errc::bad_arguments, *problem};
  try {
    machine.reduce_provisional(action);
  } catch (const std::exception& error) {
    return MethodResult{Outcome::failed, 0, 0, errc::reducer_failed, error.what()};
  } catch (...) {
    return MethodResult{Outcome::failed, 0, 0, errc::reducer_failed,
                        "the reducer threw a non-standard exception"};
  }
  const auto proposal = raft->propose(raft::Payload(payload));
  if (!proposal.accepted) {     // cannot happen after the role check; if it did:
    machine.sync(raft->log());  // rebuilt without the action
    return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
  }
  machine.proposed(proposal.index, proposal.term, std::move(action));
  return MethodResult{Outcome::proposed, proposal.index, proposal.term, {}, {}};
}

void Node::Impl::run_on_leader(std::uint64_t id) {
  const auto& call = pending.at(id).call;
  const auto result = run_method(call.method, call.args);
  auto found = pending.find(id);  // user code ran: it may have closed the node
  if (found == pending.end()) return;
  switch (result.outcome) {
    case Outcome::proposed:
      return await_apply(id, result.index, result.term);
    case Outcome::null_result:
      return complete(id, nullptr);
    case Outcome::failed:
      return fail(id, result.code, result.message);
    case Outcome::not_leader:
      return;  // stays waiting for the next leader
  }
}

void Node::Impl::forward(std::uint64_t id, const raft::NodeId& leader) {
  auto& p = pending.at(id);
  transport::PerformRequest request{id, p.call.method, boost::json::serialize(p.call.args)};
  if (request.args.size() > detail::max_action_bytes) {
    return fail(id, errc::bad_arguments,
                "the arguments are larger than 8 MiB; nothing was proposed");
  }
  p.stage = Stage::forwarded;
  p.forwarded_to = leader;
  send(transport::ClientMessage{options.id, leader, std::move(request)});
}

// On the leader: runs a perform forwarded by another node and tells it the
// outcome. The forwarding node completes it when it applies the entry.
void Node::Impl::serve_forwarded(const raft::NodeId& from,
                                 const transport::PerformRequest& request) {
  transport::PerformReply reply;
  reply.id = request.id;
  boost::system::error_code ec;
  const auto args = boost::json::parse(request.args, ec);
  if (ec || !args.is_array()) {
    // The codec delivers a request whose arguments do not parse (see
    // client_codec.cpp), so that its sender hears why instead of losing
    // its link.
    reply.outcome = Outcome::failed;
    reply.code = std::string(to_string(errc::bad_arguments));
    reply.message = ec ? "the forwarded arguments are not valid JSON (" + ec.message() + ")"
                       : "the forwarded arguments are not a JSON array";
  } else {
    const auto result = run_method(request.method, args.get_array());
    reply.outcome = result.outcome;
    reply.index = result.index;
    reply.term = result.term;
    reply.code =
        result.outcome == Outcome::failed ? std::string(to_string(result.code)) : std::string();
    reply.message = result.message;
  }
  send(transport::ClientMessage{options.id, from, std::move(reply)});
}

void Node::Impl::on_reply(const raft::NodeId& from, const transport::PerformReply& reply) {
  auto it = pending.find(reply.id);
  // Only the node it was forwarded to answers a perform; anything else is
  // late, duplicated, or meant for an earlier run of this node.
  if (it == pending.end() || it->second.stage != Stage::forwarded ||
      it->second.forwarded_to != from)
    return;
  auto& p = it->second;
  switch (reply.outcome) {
    case Outcome::proposed:
      return await_apply(reply.id, reply.index, reply.term);
    case Outcome::null_result:
      return complete(reply.id, nullptr);
    case Outcome::failed:
      return fail(reply.id, code_named(reply.code), reply.message);
    case Outcome::not_leader:
      p.stage = Stage::waiting_leader;
      p.refused_by = from;  // not asked again before the next tick
      return;
  }
}

// The perform's action sits at (index, term): it completes when this node
// applies that index (on_applied), or now if it already has.
void Node::Impl::await_apply(std::uint64_t id, raft::Index index, raft::Term term) {
  auto& p = pending.at(id);
  p.stage = Stage::proposed;
  p.index = index;
  p.term = term;
  if (index <= machine.applied()) return settle_applied_early(id);
  by_index.emplace(index, id);
}

// The entry was applied here before the leader's answer arrived: settle the
// perform from the log.
void Node::Impl::settle_applied_early(std::uint64_t id) {
  const auto& p = pending.at(id);
  const auto& log = raft->log();
  if (log.term_at(p.index) != p.term) {
    return fail(id, errc::leadership_lost, "the action was lost; retry");
  }
  if (auto error = reducer_errors.find(p.index); error != reducer_errors.end()) {
    return fail(id, errc::reducer_failed, error->second);
  }
  boost::json::value action;
  if (p.index >= log.first_index()) action = detail::parse_action(log.at(p.index));
  complete(id, std::move(action));
}

// A forwarded perform whose leader was replaced before it answered may or
// may not have been appended: it fails as outcome_unknown, never as success.
void Node::Impl::check_forwarded() {
  const auto leader = raft->leader();
  if (leader.empty()) return;
  std::vector<std::uint64_t> orphaned;
  for (const auto& [id, p] : pending) {
    if (p.stage == Stage::forwarded && p.forwarded_to != leader) orphaned.push_back(id);
  }
  for (const auto id : orphaned) {
    fail(id, errc::outcome_unknown,
         "the leader changed before answering; the action may or may not be committed");
  }
}

void Node::Impl::expire(Clock::time_point now) {
  std::vector<std::uint64_t> expired;
  for (const auto& [id, p] : pending) {
    if (p.call.deadline <= now) expired.push_back(id);
  }
  for (const auto id : expired) {
    if (pending.at(id).stage == Stage::waiting_leader) {
      fail(id, errc::no_leader, "no reachable leader before the timeout; nothing was proposed");
    } else {
      fail(id, errc::timeout, "timed out before the action was committed");
    }
  }
}

std::optional<PerformHandler> Node::Impl::take(std::uint64_t id) {
  auto node = pending.extract(id);
  if (node.empty()) return std::nullopt;
  auto& p = node.mapped();
  if (p.stage == Stage::proposed) {
    for (auto [it, end] = by_index.equal_range(p.index); it != end; ++it) {
      if (it->second == id) {
        by_index.erase(it);
        break;
      }
    }
  }
  return std::move(p.call.handler);
}

void Node::Impl::complete(std::uint64_t id, boost::json::value result) {
  if (const auto it = pending.find(id); it != pending.end()) {
    const std::chrono::duration<double> took = Clock::now() - it->second.call.started;
    counters.perform_latency.observe(took.count());
    ++counters.performs_succeeded;
  }
  if (auto handler = take(id)) {
    // post() runs it through the handler's own associated executor.
    asio::post(executor,
               asio::append(std::move(*handler), std::exception_ptr(), std::move(result)));
  }
}

void Node::Impl::fail(std::uint64_t id, errc code, const std::string& message) {
  if (auto handler = take(id)) {
    ++counters.performs_failed[std::string(to_string(code))];
    auto error = std::make_exception_ptr(Error(code, message));
    asio::post(executor, asio::append(std::move(*handler), error, boost::json::value()));
  }
}

}  // namespace conflux
