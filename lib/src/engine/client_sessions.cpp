// Exactly-once performs (thesis §6.3; sessions.hpp). Each node opens a
// client session through the log and runs every user perform in it as
// (client, seq). The leader looks a (client, seq) up before running it: in
// its log, it waits for that entry; applied, it answers with the recorded
// outcome; else it runs the method and appends its outcome, whatever it is.
// The perform completes here when this node applies an entry of its
// (client, seq), or finds its outcome in the sessions of a snapshot.
//
// So a perform never needs outcome_unknown: when its leader changes, or its
// forward goes unanswered for an election timeout, it is simply sent again
// with the same (client, seq), and the duplicate, if any, is applied as the
// first one's outcome. When this node's session expires (it sees it in the
// log), its unanswered performs are known never to be applied: they run
// again in a new session.
#include "engine.hpp"

namespace conflux::detail {

using Outcome = transport::PerformReply::Outcome;
using Standing = SessionStanding::Kind;

namespace {

using raft::max_wire_integer;

}  // namespace

bool Engine::in_session(const Pending& p) const {
  return !is_membership_method(p.method) && p.method != method_open_session;
}

// Whether perform `id` may go to a leader now: one in this node's session
// first needs the session, and a sequence number in it.
bool Engine::ready_to_send(std::uint64_t id) {
  auto& p = pending_.at(id);
  if (!in_session(p) || !p.own_session) return true;
  if (client_ == 0) {
    open_own_session();
    return false;
  }
  if (p.client != client_) {
    p.client = client_;
    p.seq = next_seq_++;
    p.sent = false;
    by_key_.emplace(std::pair{p.client, p.seq}, id);
  }
  p.ack = own_ack();
  return true;
}

std::uint64_t Engine::own_ack() const {
  // by_key_ is ordered by (client, seq): this session's first key is the
  // lowest sequence number not yet answered.
  const auto first = by_key_.lower_bound(std::pair{client_, std::uint64_t{0}});
  return first != by_key_.end() && first->first.first == client_ ? first->first.second : next_seq_;
}

void Engine::open_own_session() {
  if (opening_ != 0) return;
  const auto now = hooks_.now();
  boost::json::array args{static_cast<std::uint64_t>(session_timeout_.count())};
  opening_ =
      perform(std::string(method_open_session), std::move(args), now, Clock::time_point::max());
}

Engine::MethodResult Engine::run_open_session(const boost::json::array& args) {
  const auto* timeout = args.size() == 1 ? args[0].if_uint64() : nullptr;
  const auto* signed_timeout = args.size() == 1 ? args[0].if_int64() : nullptr;
  std::uint64_t ms = timeout                                 ? *timeout
                     : signed_timeout && *signed_timeout > 0 ? *signed_timeout
                                                             : 0;
  if (ms == 0 || ms > max_wire_integer) {
    return MethodResult{Outcome::failed, 0, 0, errc::bad_arguments,
                        std::string(method_open_session) + " takes [timeout_ms], from 1 to 2^53-1"};
  }
  SessionEntry entry;
  entry.kind = SessionEntry::Kind::open;
  entry.time = hooks_.wall_clock();
  entry.timeout = ms;
  return propose_session_entry(std::move(entry), {}, nullptr, false);
}

// The open entry at `index` was applied: its index is the session's id. The
// opener of this node's session adopts it; a caller's gets it as its result.
bool Engine::adopt_session(std::uint64_t id, raft::Index index) {
  if (id != opening_) return false;
  opening_ = 0;
  client_ = index;
  next_seq_ = 1;
  take(id);
  return true;
}

// Whether the entry at index `client` opens a session that this leader has
// not applied yet: the client, which applied it, is then asked to try again.
bool Engine::opens_session(std::uint64_t client) const {
  const auto& log = raft_->log();
  if (client < log.first_index() || client > log.last_index()) return false;
  const auto& entry = log.at(client);
  if (entry.type != raft::EntryType::session) return false;
  try {
    return decode_session_entry(entry.payload.view()).kind == SessionEntry::Kind::open;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

// On the leader, for (client, seq): the entry that carries it, or a refusal.
Engine::MethodResult Engine::run_in_session(std::uint64_t client, std::uint64_t seq,
                                            std::uint64_t ack, const std::string& method,
                                            const boost::json::array& args) {
  if (raft_->role() != raft::Role::leader) return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
  machine_.sync(raft_->log());
  const auto standing = machine_.standing(client, seq);
  switch (standing.kind) {
    case Standing::in_log:
    case Standing::applied:
      return MethodResult{Outcome::proposed, standing.index, standing.term, {}, {}};
    case Standing::not_yet:
      if (opens_session(client)) return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
      [[fallthrough]];  // no open entry there: a client id that never was
    case Standing::unknown:
      return MethodResult{Outcome::failed, 0, 0, errc::session_expired,
                          "client session " + std::to_string(client) +
                              " is unknown: it expired or was never opened; the action was not "
                              "applied"};
    case Standing::stale:
      return MethodResult{Outcome::failed, 0, 0, errc::stale_sequence,
                          "sequence number " + std::to_string(seq) + " of client session " +
                              std::to_string(client) + " was already answered, or given up"};
    case Standing::fresh:
      break;
  }
  boost::json::value action;
  std::string payload;
  auto result = evaluate(method, args, action, payload);
  if (result.outcome == Outcome::not_leader ||
      (result.outcome == Outcome::failed && result.code == errc::unknown_method)) {
    return result;  // decided by the request alone: nothing to record
  }
  SessionEntry entry;
  entry.time = hooks_.wall_clock();
  entry.client = client;
  entry.seq = seq;
  entry.ack = ack;
  const bool reduced = result.outcome == Outcome::proposed;
  if (!reduced) {
    entry.kind = SessionEntry::Kind::result;
    if (result.outcome == Outcome::failed) {
      entry.code = std::string(to_string(result.code));
      entry.message = result.message;
    }
  }
  return propose_session_entry(std::move(entry), payload, std::move(action), reduced);
}

Engine::MethodResult Engine::propose_session_entry(SessionEntry entry, std::string_view payload,
                                                   boost::json::value action, bool reduced) {
  const auto proposal =
      raft_->propose(raft::Payload(encode(entry, payload)), raft::EntryType::session);
  if (!proposal.accepted) {       // cannot happen after the role check; if it did:
    machine_.sync(raft_->log());  // rebuilt without the action
    return MethodResult{Outcome::not_leader, 0, 0, {}, {}};
  }
  machine_.proposed(proposal.index, proposal.term, std::move(action), std::move(entry), reduced);
  return MethodResult{Outcome::proposed, proposal.index, proposal.term, {}, {}};
}

// Completes the performs waiting for this entry's (client, seq), and starts
// this node's session over if the entry's time expired it.
// Takes applied.action: nothing reads it after (engine.cpp: on_applied).
void Engine::on_session_applied(AppliedAction& applied) {
  if (applied.no_op && !applied.reducer_error.empty()) {
    log_(LogLevel::warning, "entry " + std::to_string(applied.index) + ": " +
                                applied.reducer_error + "; applied as nothing");
  }
  if (!applied.expired.empty()) on_sessions_expired(applied.expired);
  if (!applied.session) return;
  const auto& outcome = *applied.session;
  std::vector<std::uint64_t> ids;
  for (auto [it, end] = by_key_.equal_range(std::pair{outcome.client, outcome.seq}); it != end;
       ++it) {
    ids.push_back(it->second);
  }
  const bool fresh = outcome.verdict == SessionTable::Verdict::fresh;
  if (ids.empty()) return;
  auto action = fresh ? std::move(applied.action) : outcome.result.action();  // read no more
  for (std::size_t i = 0; i < ids.size(); ++i) {
    finish(ids[i], outcome, i + 1 == ids.size() ? std::move(action) : boost::json::value(action));
  }
}

// Nothing of an expired session is applied after its expiry: this node's
// unanswered performs in it run again in a new session; a caller's fail.
void Engine::on_sessions_expired(const std::vector<std::uint64_t>& expired) {
  for (const auto client : expired) {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, p] : pending_) {
      if (p.client == client && p.seq != 0) ids.push_back(id);
    }
    for (const auto id : ids) {
      if (!pending_.at(id).own_session) {
        fail(id, errc::session_expired,
             "client session " + std::to_string(client) +
                 " expired before this perform was applied; it was not applied");
        continue;
      }
      requeue(id);
      auto& p = pending_.at(id);
      unlist(by_key_, std::pair{p.client, p.seq}, id);
      p.client = 0;  // ready_to_send() gives it a number in the next session
    }
    if (client == client_) {
      log_(LogLevel::info,
           "client session " + std::to_string(client) + " expired; opening another");
      client_ = 0;
    }
  }
}

// A perform whose (client, seq) this node's sessions may already answer:
// after its leader named an index this node has applied, or a snapshot.
void Engine::settle_from_sessions(std::uint64_t id) {
  const auto& p = pending_.at(id);
  const auto admission = machine_.sessions().admit(p.client, p.seq);
  if (admission.verdict == SessionTable::Verdict::duplicate) {
    const auto& result = *admission.result;
    return finish(id, SessionOutcome{p.client, p.seq, admission.verdict, result}, result.action());
  }
  if (admission.verdict != SessionTable::Verdict::fresh) {
    return finish(id, SessionOutcome{p.client, p.seq, admission.verdict, {}}, nullptr);
  }
  // Not applied, though the entry the leader named is: another took its place.
  if (p.stage == Stage::proposed && p.index <= machine_.applied()) requeue(id);
}

// `action`: the action the outcome applied (null for a null result).
void Engine::finish(std::uint64_t id, const SessionOutcome& outcome, boost::json::value action) {
  using Verdict = SessionTable::Verdict;
  switch (outcome.verdict) {
    case Verdict::fresh:
    case Verdict::duplicate:
      if (!outcome.result.code.empty()) {
        return fail(id, code_named(outcome.result.code), outcome.result.message);
      }
      return complete(id, std::move(action));
    case Verdict::unknown:
      if (pending_.at(id).own_session) return;  // on_sessions_expired() runs it again
      return fail(id, errc::session_expired,
                  "client session " + std::to_string(outcome.client) +
                      " is unknown: it expired or was never opened; the action was not applied");
    case Verdict::stale:
      return fail(id, errc::stale_sequence,
                  "sequence number " + std::to_string(outcome.seq) +
                      " was already answered, or given up; it was not applied again");
  }
}

// Back to waiting for a leader, to be sent again with the same (client, seq).
void Engine::requeue(std::uint64_t id) {
  auto& p = pending_.at(id);
  if (p.stage == Stage::proposed) unlist(by_index_, p.index, id);
  p.stage = Stage::waiting_leader;
  p.forwarded_to.clear();
}

// Session performs sent to a leader that is no longer the one, or whose
// forward went unanswered for an election timeout (a lost message), are
// sent again: the leader's session lookup makes that safe.
void Engine::requeue_orphans() {
  const auto leader = raft_->leader();
  const auto patience = static_cast<std::uint64_t>(raft_->config().election_ticks_min);
  std::vector<std::uint64_t> orphans;
  for (const auto& [id, p] : pending_) {
    if (p.seq == 0 || (p.stage != Stage::forwarded && p.stage != Stage::proposed)) continue;
    const bool leader_changed = !leader.empty() && p.forwarded_to != leader;
    const bool unanswered = p.stage == Stage::forwarded && ticks_ - p.sent_tick > patience;
    if (leader_changed || unanswered) orphans.push_back(id);
  }
  for (const auto id : orphans) requeue(id);
  // The opening of this node's own session is sessionless and waits with
  // no deadline: lost on its way (or its answer lost), it would hold every
  // perform of this node until the leader changed. Given up after the same
  // patience, it is opened again (a session opened twice only expires).
  const auto opening = pending_.find(opening_);
  if (opening != pending_.end() && opening->second.stage == Stage::forwarded &&
      ticks_ - opening->second.sent_tick > patience) {
    fail(opening_, errc::outcome_unknown, "the session's opening went unanswered");
  }
}

}  // namespace conflux::detail
