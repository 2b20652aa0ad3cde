// The life of a perform: it waits for a leader; on the leader its method
// runs against the provisional state and the action is proposed; elsewhere
// it is forwarded to the leader, which answers with where it proposed the
// action. Either way it completes here, once this node has applied the
// entry at that index: with the action if the entry has the expected term,
// with errc::leadership_lost if another entry took its place.
#include "node_impl.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace conflux {

using Stage = detail::Pending::Stage;
using Outcome = transport::PerformReply::Outcome;

namespace {

errc code_named(const std::string& name) {
  for (int i = static_cast<int>(errc::unknown_method); i <= static_cast<int>(errc::bad_arguments); ++i) {
    if (name == to_string(static_cast<errc>(i))) return static_cast<errc>(i);
  }
  return errc::method_failed;
}

}  // namespace

void Node::Impl::accept_call(detail::PerformCall call) {
  const auto id = next_id++;
  const bool expired = call.deadline <= Clock::now();
  pending.emplace(id, detail::Pending{Stage::waiting_leader, std::move(call), {}, 0, 0});
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
  for (const auto id : waiting) {
    if (leader == options.id) {
      run_on_leader(id);
    } else {
      forward(id, leader);
    }
  }
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
    return MethodResult{Outcome::failed, 0, 0, errc::unknown_method, name + " is not a registered method"};
  }
  machine.sync(raft->log());
  boost::json::value action;
  boost::json::value next;
  try {
    action = method->second(machine.provisional(), args);
    if (action.is_null()) return MethodResult{Outcome::null_result, 0, 0, {}, {}};
  } catch (const std::exception& error) {
    return MethodResult{Outcome::failed, 0, 0, errc::method_failed, error.what()};
  }
  try {
    next = machine.try_reduce(action);
  } catch (const std::exception& error) {
    return MethodResult{Outcome::failed, 0, 0, errc::reducer_failed, error.what()};
  }
  const auto proposal = raft->propose(raft::Payload(boost::json::serialize(action)));
  if (!proposal.accepted) return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
  machine.proposed(proposal.index, proposal.term, std::move(action), std::move(next));
  return MethodResult{Outcome::proposed, proposal.index, proposal.term, {}, {}};
}

void Node::Impl::run_on_leader(std::uint64_t id) {
  auto& p = pending.at(id);
  const auto result = run_method(p.call.method, p.call.args);
  switch (result.outcome) {
    case Outcome::proposed:
      p.stage = Stage::proposed;
      p.index = result.index;
      p.term = result.term;
      by_index.emplace(result.index, id);
      return;
    case Outcome::null_result: return complete(id, nullptr);
    case Outcome::failed: return fail(id, result.code, result.message);
    case Outcome::not_leader: return;  // stays waiting for the next leader
  }
}

void Node::Impl::forward(std::uint64_t id, const raft::NodeId& leader) {
  auto& p = pending.at(id);
  p.stage = Stage::forwarded;
  p.forwarded_to = leader;
  transport::PerformRequest request{id, p.call.method, boost::json::serialize(p.call.args)};
  channel->send(transport::ClientMessage{options.id, leader, std::move(request)});
}

// On the leader: runs a perform forwarded by another node and tells it the
// outcome. The forwarding node completes it when it applies the entry.
void Node::Impl::serve_forwarded(const raft::NodeId& from, const transport::PerformRequest& request) {
  transport::PerformReply reply;
  reply.id = request.id;
  boost::json::value args;
  try {
    args = boost::json::parse(request.args);
  } catch (const std::exception&) {
  }
  if (!args.is_array()) {
    reply.outcome = Outcome::failed;
    reply.code = std::string(to_string(errc::bad_arguments));
    reply.message = "the forwarded arguments are not a JSON array";
  } else {
    const auto result = run_method(request.method, args.get_array());
    reply.outcome = result.outcome;
    reply.index = result.index;
    reply.term = result.term;
    reply.code = result.outcome == Outcome::failed ? std::string(to_string(result.code)) : std::string();
    reply.message = result.message;
  }
  channel->send(transport::ClientMessage{options.id, from, std::move(reply)});
}

void Node::Impl::on_reply(const transport::PerformReply& reply) {
  auto it = pending.find(reply.id);
  if (it == pending.end() || it->second.stage != Stage::forwarded) return;  // late or duplicate
  auto& p = it->second;
  switch (reply.outcome) {
    case Outcome::proposed:
      p.stage = Stage::proposed;
      p.index = reply.index;
      p.term = reply.term;
      if (reply.index <= machine.applied()) return settle_applied_early(reply.id);
      by_index.emplace(reply.index, reply.id);
      return;
    case Outcome::null_result: return complete(reply.id, nullptr);
    case Outcome::failed: return fail(reply.id, code_named(reply.code), reply.message);
    case Outcome::not_leader: p.stage = Stage::waiting_leader; return;
  }
}

// The entry was applied here before the leader's answer arrived: settle the
// perform from the log.
void Node::Impl::settle_applied_early(std::uint64_t id) {
  const auto& p = pending.at(id);
  const auto& log = raft->log();
  if (log.term_at(p.index) != p.term) {
    return fail(id, errc::leadership_lost, "the action was lost; retry");
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
  for (const auto id : expired) fail(id, errc::timeout, "timed out before the action was committed");
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
  if (auto handler = take(id)) {
    asio::post(executor, [h = std::move(*handler), r = std::move(result)]() mutable {
      std::move(h)(nullptr, std::move(r));
    });
  }
}

void Node::Impl::fail(std::uint64_t id, errc code, const std::string& message) {
  if (auto handler = take(id)) {
    auto error = std::make_exception_ptr(Error(code, message));
    asio::post(executor, [h = std::move(*handler), error]() mutable { std::move(h)(error, nullptr); });
  }
}

}  // namespace conflux
