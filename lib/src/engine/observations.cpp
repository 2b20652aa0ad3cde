// Answers that append nothing, made linearizable. A method runs against the
// leader's provisional state: every entry of its log, committed or not. When
// it returns null or refuses, nothing is appended, yet its answer reveals
// that state, which may never commit (this leader is deposed and its tail
// replaced) or may be stale (another leader has already committed more).
// Such an answer is held back until, as for a read (thesis §6.4), a
// heartbeat round confirms that this node still led after the method ran,
// and the log it read, up to (index, term), is committed and applied. If
// either fails, nothing was done, so the perform simply runs again on the
// next leader: locally it waits for a leader once more; forwarded, the
// follower hears not_leader and forwards it again.
#include "engine.hpp"

namespace conflux::detail {

using Outcome = transport::PerformReply::Outcome;

// What depends on what the leader's log holds: a null result; the method's
// or the reducer's refusal, or an action refused as too large (all three
// computed from the state); and an add_member found already done (from the
// configuration). An unknown method does not; nor do the other membership
// answers, which the core decides or which append a configuration entry.
bool Engine::observes_state(const std::string& method, const MethodResult& result) {
  if (is_membership_method(method)) {
    return method == method_add_member && result.outcome == Outcome::null_result;
  }
  return result.outcome == Outcome::null_result ||
         (result.outcome == Outcome::failed &&
          (result.code == errc::method_failed || result.code == errc::reducer_failed ||
           result.code == errc::bad_arguments));
}

void Engine::observe(Observer observer, MethodResult result) {
  const auto index = raft_->log().last_index();
  const auto read = next_id_++;
  if (observer.perform != 0) pending_.at(observer.perform).stage = Stage::observing;
  observations_.emplace(read, Observation{std::move(observer),
                                          std::move(result),
                                          index,
                                          raft_->log().term_at(index).value_or(0),
                                          false,
                                          {}});
  raft_->read_index(read);
}

bool Engine::on_observation_read(std::uint64_t read, raft::Index index) {
  auto found = observations_.find(read);
  if (found == observations_.end()) return false;
  if (index == 0) {  // leadership lost before the round was answered
    rerun(found->second.observer);
    observations_.erase(found);
  } else {
    found->second.confirmed = true;
  }
  return true;
}

// An observation stands once confirmed, if the log it read is the one
// committed: the entry at its index, when applied here, has its term. That
// is noted as soon as it is applied (before a snapshot can compact it away),
// confirmed or not.
void Engine::settle_observations() {
  const auto applied = machine_.applied();
  for (auto it = observations_.begin(); it != observations_.end();) {
    auto& o = it->second;
    if (!o.log_held && o.index <= applied) o.log_held = raft_->log().term_at(o.index) == o.term;
    if (!o.confirmed || !o.log_held) {
      ++it;
      continue;
    }
    if (*o.log_held) {
      answer(o.observer, o.result);
    } else {
      rerun(o.observer);
    }
    it = observations_.erase(it);
  }
}

void Engine::answer(const Observer& observer, const MethodResult& result) {
  if (observer.perform == 0) {
    transport::PerformReply reply;
    reply.id = observer.request;
    reply.outcome = result.outcome;
    reply.code = result.outcome == Outcome::failed ? std::string(to_string(result.code)) : "";
    reply.message = result.message;
    return send(transport::ClientMessage{id_, observer.from, std::move(reply)});
  }
  auto p = pending_.find(observer.perform);
  if (p == pending_.end() || p->second.stage != Stage::observing) return;  // expired
  if (result.outcome == Outcome::null_result) return complete(observer.perform, nullptr);
  fail(observer.perform, result.code, result.message);
}

void Engine::rerun(const Observer& observer) {
  if (observer.perform == 0) {
    transport::PerformReply reply;
    reply.id = observer.request;
    reply.outcome = Outcome::not_leader;
    return send(transport::ClientMessage{id_, observer.from, std::move(reply)});
  }
  auto p = pending_.find(observer.perform);
  if (p != pending_.end() && p->second.stage == Stage::observing) {
    p->second.stage = Stage::waiting_leader;
  }
}

}  // namespace conflux::detail
