// Linearizable reads (thesis §6.4): a read asks the core for a read index
// (ReadIndex: the leader's commit index, confirmed by a heartbeat round that
// a quorum answered; a follower gets it from the leader) and completes with
// the committed state once this node has applied that far. A read the core
// refuses (no leader known, leadership lost first) is asked again at the
// next tick, until its deadline.
#include "engine.hpp"

namespace conflux::detail {

std::uint64_t Engine::read(Clock::time_point deadline) {
  catch_up();  // a lease (thesis §6.4.1) is judged at the current time
  const auto id = next_id_++;
  reads_.emplace(id, PendingRead{deadline, 0, true});
  raft_->read_index(id);
  return id;
}

// From a Ready: each read's index, or its refusal.
void Engine::on_read_states(const std::vector<raft::ReadState>& states) {
  for (const auto& state : states) {
    if (on_observation_read(state.id, state.index)) continue;
    auto read = reads_.find(state.id);
    if (read == reads_.end()) continue;
    read->second.asked = false;  // a refusal is asked again at the next tick
    read->second.index = state.index;
  }
  serve_reads();
  settle_observations();
}

// Thesis §6.4 step 4: the state machine serves a read once it has applied
// the read index.
void Engine::serve_reads() {
  const auto applied = machine_.applied();
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.index == 0 || it->second.index > applied) {
      ++it;
      continue;
    }
    ++counters_.reads_served;
    completions_.push_back(Completion{it->first, nullptr, machine_.committed()});
    it = reads_.erase(it);
  }
}

// Each tick: reads past their deadline fail; refused ones are asked again.
void Engine::tick_reads(Clock::time_point now) {
  std::vector<std::uint64_t> expired;
  for (auto& [id, read] : reads_) {
    if (read.deadline <= now) {
      expired.push_back(id);
    } else if (read.index == 0 && !read.asked) {
      read.asked = true;
      raft_->read_index(id);
    }
  }
  for (const auto id : expired) {
    if (reads_.at(id).index == 0) {
      fail_read(id, errc::no_leader, "no leader confirmed a read index before the timeout");
    } else {
      fail_read(id, errc::timeout, "this node did not apply up to the read index in time");
    }
  }
}

void Engine::fail_read(std::uint64_t id, errc code, const std::string& message) {
  if (reads_.erase(id) == 0) return;
  ++counters_.reads_failed[std::string(to_string(code))];
  completions_.push_back(
      Completion{id, std::make_exception_ptr(Error(code, message)), boost::json::value()});
}

void Engine::fail_reads(errc code, const std::string& message) {
  while (!reads_.empty()) fail_read(reads_.begin()->first, code, message);
}

}  // namespace conflux::detail
