// The life of a perform: it waits for a leader; on the leader its method
// runs against the provisional state and the action is proposed; elsewhere
// it is forwarded to the leader, which answers with where it proposed the
// action. A user perform runs in a client session and completes when this
// node applies an entry of its (client, seq) (client_sessions.cpp). A
// sessionless one (a membership call) completes once this node has applied
// the entry at that index: with the action if the entry has the expected
// term, with errc::leadership_lost if another entry took its place.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "carriable.hpp"
#include "engine.hpp"

namespace conflux::detail {

using Outcome = transport::PerformReply::Outcome;

errc code_named(std::string_view name) {
  for (int i = static_cast<int>(errc::unknown_method); i <= static_cast<int>(last_errc); ++i) {
    if (name == to_string(static_cast<errc>(i))) return static_cast<errc>(i);
  }
  return errc::method_failed;
}

std::uint64_t Engine::perform(std::string method, boost::json::array args,
                              Clock::time_point started, Clock::time_point deadline,
                              std::optional<SessionCall> session) {
  const auto id = next_id_++;
  // Checked here, on every node alike: arguments that could not be forwarded
  // are refused the same way whether this node leads or not.
  auto problem = arguments_problem(args);
  Pending p;
  p.method = std::move(method);
  p.args = std::move(args);
  p.started = started;
  p.deadline = deadline;
  if (session && in_session(p)) {
    p.client = session->client;
    p.seq = session->seq;
    p.ack = session->ack;
    p.own_session = false;
    by_key_.emplace(std::pair{p.client, p.seq}, id);
  }
  pending_.emplace(id, std::move(p));
  if (session && (session->client == 0 || session->seq == 0)) {
    fail(id, errc::bad_arguments,
         "a session perform needs a client id and a sequence number above 0");
  } else if (session &&
             std::max({session->client, session->seq, session->ack}) > raft::max_wire_integer) {
    // Every replica decodes them from the entry: one it could not read would
    // be applied on this leader alone.
    fail(id, errc::bad_arguments,
         "a session's client id, sequence number and ack must not exceed 2^53-1");
  } else if (problem) {
    fail(id, errc::bad_arguments, *problem);
  } else if (deadline <= started) {  // a timeout of zero fails at once; others each tick
    fail(id, errc::timeout, "timed out before the action was committed");
  }
  return id;
}

// Sends every perform still waiting for a leader to the one now known.
void Engine::dispatch_waiting() {
  const auto leader = raft_->leader();
  if (leader.empty()) return;
  std::vector<std::uint64_t> waiting;
  for (const auto& [id, p] : pending_) {
    if (p.stage == Stage::waiting_leader) waiting.push_back(id);
  }
  // A perform is forwarded only over a live link: one sent to a leader that
  // is down would wait for the next leader anyway (a sessionless one would
  // end as outcome_unknown), while a perform that waits here certainly was
  // not proposed and goes to whichever leader is reachable next.
  const bool leader_reachable = leader != id_ && hooks_.reachable(leader);
  for (const auto id : waiting) {
    if (pending_.at(id).refused_by == leader || !ready_to_send(id)) continue;
    if (leader == id_) {
      run_on_leader(id);
    } else if (leader_reachable) {
      forward(id, leader);
    }
  }
}

// As in the original Conflux, the leader runs the method synchronously against its
// provisional state; an error goes back to the caller, null appends
// nothing, anything else is the action to append. The reducer is tried on
// the action first, so an action it would refuse is never appended.
Engine::MethodResult Engine::run_method(const std::string& name, const boost::json::array& args) {
  if (raft_->role() != raft::Role::leader) return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
  if (is_membership_method(name)) return run_membership(name, args);
  if (name == method_open_session) return run_open_session(args);
  boost::json::value action;
  std::string payload;
  auto result = evaluate(name, args, action, payload);
  if (result.outcome != Outcome::proposed) return result;
  const auto proposal = raft_->propose(raft::Payload(payload));
  if (!proposal.accepted) {       // cannot happen after the role check; if it did:
    machine_.sync(raft_->log());  // rebuilt without the action
    return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
  }
  machine_.proposed(proposal.index, proposal.term, std::move(action));
  return MethodResult{Outcome::proposed, proposal.index, proposal.term, {}, {}};
}

// Runs method `name` against the provisional state: `proposed` (with no
// index yet) leaves in `action` the action to append, reduced into the
// provisional state already, and in `payload` its text.
Engine::MethodResult Engine::evaluate(const std::string& name, const boost::json::array& args,
                                      boost::json::value& action, std::string& payload) {
  if (raft_->role() != raft::Role::leader) return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
  const auto method = methods_.find(name);
  if (method == methods_.end()) {
    return MethodResult{Outcome::failed, 0, 0, errc::unknown_method,
                        name + " is not a registered method"};
  }
  machine_.sync(raft_->log());
  try {
    action = method->second(machine_.provisional(), args);
    if (action.is_null()) return MethodResult{Outcome::null_result, 0, 0, {}, {}};
  } catch (const std::exception& error) {
    return MethodResult{Outcome::failed, 0, 0, errc::method_failed, carriable_text(error.what())};
  } catch (...) {
    return MethodResult{Outcome::failed, 0, 0, errc::method_failed,
                        "the method threw a non-standard exception"};
  }
  // Every replica applies the action parsed from these bytes, so the leader
  // does too; an action that does not survive the trip (NaN, too deep, too
  // large) is refused here instead of jamming replication.
  payload = boost::json::serialize(action);
  if (auto problem = action_problem(payload, action))
    return MethodResult{Outcome::failed, 0, 0, errc::bad_arguments, *problem};
  try {
    machine_.reduce_provisional(action);
  } catch (const std::exception& error) {
    return MethodResult{Outcome::failed, 0, 0, errc::reducer_failed, carriable_text(error.what())};
  } catch (...) {
    return MethodResult{Outcome::failed, 0, 0, errc::reducer_failed,
                        "the reducer threw a non-standard exception"};
  }
  return MethodResult{Outcome::proposed, 0, 0, {}, {}};
}

void Engine::run_on_leader(std::uint64_t id) {
  auto& p = pending_.at(id);
  const auto result = p.seq != 0 ? run_in_session(p.client, p.seq, p.ack, p.method, p.args)
                                 : run_method(p.method, p.args);
  // User code ran: with a driver that let it re-enter the engine (it must
  // not), the perform could be gone.
  if (!pending_.count(id)) return;
  p.sent = true;
  p.forwarded_to = id_;
  if (p.seq == 0 && observes_state(p.method, result)) return observe(Observer{id, {}, 0}, result);
  switch (result.outcome) {
    case Outcome::proposed:
      return await_apply(id, result.index, result.term);
    case Outcome::null_result:
      return complete(id, nullptr);
    case Outcome::failed:
      if (held_until_expiry(id, result.code)) return;
      return fail(id, result.code, result.message);
    case Outcome::not_leader:
      p.stage = Stage::waiting_leader;
      p.refused_by = id_;  // not asked again before the next tick
      return;
  }
}

void Engine::forward(std::uint64_t id, const raft::NodeId& leader) {
  auto& p = pending_.at(id);
  transport::PerformRequest request{id,       p.method, boost::json::serialize(p.args),
                                    p.client, p.seq,    p.ack};
  if (request.args.size() > detail::max_action_bytes) {
    return fail(id, errc::bad_arguments,
                "the arguments are larger than 8 MiB; nothing was proposed");
  }
  p.stage = Stage::forwarded;
  p.forwarded_to = leader;
  p.sent = true;
  p.sent_tick = ticks_;
  send(transport::ClientMessage{id_, leader, std::move(request)});
}

// On the leader: runs a perform forwarded by another node and tells it the
// outcome. The forwarding node completes it when it applies the entry.
void Engine::serve_forwarded(const raft::NodeId& from, const transport::PerformRequest& request) {
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
    auto result = request.seq != 0 ? run_in_session(request.client, request.seq, request.ack,
                                                    request.method, args.get_array())
                                   : run_method(request.method, args.get_array());
    if (request.seq == 0 && observes_state(request.method, result)) {
      return observe(Observer{0, from, request.id}, std::move(result));
    }
    reply.outcome = result.outcome;
    reply.index = result.index;
    reply.term = result.term;
    reply.code =
        result.outcome == Outcome::failed ? std::string(to_string(result.code)) : std::string();
    reply.message = result.message;
  }
  send(transport::ClientMessage{id_, from, std::move(reply)});
}

void Engine::on_reply(const raft::NodeId& from, const transport::PerformReply& reply) {
  auto it = pending_.find(reply.id);
  // Only the node it was forwarded to answers a perform; anything else is
  // late, duplicated, or meant for an earlier run of this node.
  if (it == pending_.end() || it->second.stage != Stage::forwarded ||
      it->second.forwarded_to != from)
    return;
  auto& p = it->second;
  switch (reply.outcome) {
    case Outcome::proposed:
      return await_apply(reply.id, reply.index, reply.term);
    case Outcome::null_result:
      return complete(reply.id, nullptr);
    case Outcome::failed:
      if (held_until_expiry(reply.id, code_named(reply.code))) return;
      return fail(reply.id, code_named(reply.code), reply.message);
    case Outcome::not_leader:
      p.stage = Stage::waiting_leader;
      p.refused_by = from;  // not asked again before the next tick
      return;
  }
}

// The leader found this node's own session expired before this node saw
// it: the perform waits (asked again each tick) until the expiry is
// applied here, which tells whether an earlier attempt was applied first.
bool Engine::held_until_expiry(std::uint64_t id, errc code) {
  auto& p = pending_.at(id);
  if (code != errc::session_expired || p.seq == 0 || !p.own_session) return false;
  p.stage = Stage::waiting_leader;
  p.refused_by = raft_->leader();
  return true;
}

// The perform's action sits at (index, term): it completes when this node
// applies that index (on_applied), or now if it already has.
void Engine::await_apply(std::uint64_t id, raft::Index index, raft::Term term) {
  auto& p = pending_.at(id);
  p.stage = Stage::proposed;
  p.index = index;
  p.term = term;
  if (index <= machine_.applied()) {
    return p.seq != 0 ? settle_from_sessions(id) : settle_applied_early(id);
  }
  by_index_.emplace(index, id);
}

// The entry was applied here before the leader's answer arrived: settle the
// perform from the log.
void Engine::settle_applied_early(std::uint64_t id) {
  const auto& p = pending_.at(id);
  const auto& log = raft_->log();
  const auto term = log.term_at(p.index);
  if (!term) {  // compacted: committed, but perhaps another leader's entry
    return fail(id, errc::outcome_unknown,
                "the entry was compacted before this node could compare its term: whether the "
                "action was committed is unknown");
  }
  if (*term != p.term) return fail(id, errc::leadership_lost, "the action was lost; retry");
  if (auto error = reducer_errors_.find(p.index); error != reducer_errors_.end()) {
    return fail(id, errc::reducer_failed, error->second);
  }
  boost::json::value action;
  if (p.index >= log.first_index()) action = parse_action(log.at(p.index));
  complete(id, std::move(action));
}

// A sessionless forwarded perform whose leader was replaced before it
// answered may or may not have been appended: it fails as outcome_unknown,
// never as success. (One in a session is sent again: requeue_orphans().)
void Engine::check_forwarded() {
  const auto leader = raft_->leader();
  if (leader.empty()) return;
  std::vector<std::uint64_t> orphaned;
  for (const auto& [id, p] : pending_) {
    // One in a session is sent again instead (requeue_orphans()).
    if (p.stage == Stage::forwarded && p.forwarded_to != leader && p.seq == 0) {
      orphaned.push_back(id);
    }
  }
  for (const auto id : orphaned) {
    fail(id, errc::outcome_unknown,
         "the leader changed before answering; the action may or may not be committed");
  }
}

void Engine::expire(Clock::time_point now) {
  std::vector<std::uint64_t> expired;
  for (const auto& [id, p] : pending_) {
    if (p.deadline <= now) expired.push_back(id);
  }
  for (const auto id : expired) {
    const auto stage = pending_.at(id).stage;
    if (stage == Stage::waiting_leader && !pending_.at(id).sent) {
      fail(id, errc::no_leader, "no reachable leader before the timeout; nothing was proposed");
    } else if (pending_.at(id).seq != 0) {
      fail(id, errc::timeout,
           "timed out before the action was committed; it may still be applied, once, but "
           "never twice");
    } else if (stage == Stage::observing) {
      fail(id, errc::timeout,
           "timed out before the leader confirmed its answer; nothing was appended");
    } else {
      fail(id, errc::timeout, "timed out before the action was committed");
    }
  }
}

// Removes a finished perform; false if it was no longer pending.
bool Engine::take(std::uint64_t id) {
  auto node = pending_.extract(id);
  if (node.empty()) return false;
  const auto& p = node.mapped();
  if (p.seq != 0) unlist(by_key_, std::pair{p.client, p.seq}, id);
  if (p.stage == Stage::proposed) unlist(by_index_, p.index, id);
  return true;
}

void Engine::complete(std::uint64_t id, boost::json::value result) {
  const auto it = pending_.find(id);
  if (it == pending_.end() || continue_membership(id)) return;
  if (it->second.method == method_open_session) {
    if (adopt_session(id, it->second.index)) return;
    result = it->second.index;  // a caller's own session: its id
  }
  const std::chrono::duration<double> took = hooks_.now() - it->second.started;
  counters_.perform_latency.observe(took.count());
  ++counters_.performs_succeeded;
  take(id);
  completions_.push_back(Completion{id, nullptr, std::move(result)});
}

void Engine::fail(std::uint64_t id, errc code, const std::string& message) {
  if (id == opening_) {  // opened again when a perform next needs it
    opening_ = 0;
    take(id);
    return;
  }
  if (retry_later(id, code) || !take(id)) return;
  ++counters_.performs_failed[std::string(to_string(code))];
  completions_.push_back(
      Completion{id, std::make_exception_ptr(Error(code, message)), boost::json::value()});
}

}  // namespace conflux::detail
