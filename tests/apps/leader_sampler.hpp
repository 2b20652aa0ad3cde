#pragma once
// Watches a cluster for two leaders in one term (Raft §5.2, Election
// Safety): one thread per node polls its /status every few milliseconds and
// records which nodes claim leadership in which term. A stopped node simply
// misses its samples (each poll has a short timeout).

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace conflux::test {

class LeaderSampler {
 public:
  explicit LeaderSampler(const std::vector<std::uint16_t>& http_ports,
                         std::chrono::milliseconds interval = std::chrono::milliseconds(10));
  ~LeaderSampler() { stop(); }
  LeaderSampler(const LeaderSampler&) = delete;
  LeaderSampler& operator=(const LeaderSampler&) = delete;

  void stop();
  /// term -> ids of the nodes that reported themselves leader in it.
  std::map<std::uint64_t, std::set<std::string>> leaders_by_term() const;
  /// /status answers received, over all nodes.
  std::size_t samples() const;

 private:
  void sample(std::uint16_t port, std::chrono::milliseconds interval, std::stop_token stop);

  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::set<std::string>> leaders_;  // guarded by mutex_
  std::size_t samples_ = 0;                                 // guarded by mutex_
  std::vector<std::jthread> threads_;
};

}  // namespace conflux::test
