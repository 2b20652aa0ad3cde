#include "apps/leader_sampler.hpp"

#include "apps/daemon_cluster.hpp"

namespace conflux::test {

LeaderSampler::LeaderSampler(const std::vector<std::uint16_t>& http_ports,
                             std::chrono::milliseconds interval) {
  for (const auto port : http_ports) {
    threads_.emplace_back(
        [this, port, interval](std::stop_token stop) { sample(port, interval, stop); });
  }
}

void LeaderSampler::stop() {
  for (auto& thread : threads_) thread.request_stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void LeaderSampler::sample(std::uint16_t port, std::chrono::milliseconds interval,
                           std::stop_token stop) {
  while (!stop.stop_requested()) {
    const auto reply = http_request(port, "GET", "/status", "", std::chrono::milliseconds(200));
    if (const auto status = reply.status == 200 ? parse_status(reply.body) : std::nullopt) {
      const std::lock_guard lock(mutex_);
      ++samples_;
      if (status->role == "leader") leaders_[status->term].insert(status->id);
    }
    std::this_thread::sleep_for(interval);  // the sampling period
  }
}

std::map<std::uint64_t, std::set<std::string>> LeaderSampler::leaders_by_term() const {
  const std::lock_guard lock(mutex_);
  return leaders_;
}

std::size_t LeaderSampler::samples() const {
  const std::lock_guard lock(mutex_);
  return samples_;
}

}  // namespace conflux::test
