// The load target of --mode tcp, websocket and redis: conflux-node
// processes (started here, or already running with --connect) driven over
// their HTTP API by an HttpLoad.
#include <chrono>

#include "http_load.hpp"
#include "http_probe.hpp"
#include "http_response.hpp"
#include "interrupt.hpp"
#include "load_target.hpp"
#include "node_processes.hpp"
#include "proc_stats.hpp"

namespace conflux::bench {

namespace {

// Process start-up, then an election (300–500 ms), then the links: seconds
// on a loaded machine, never this long.
constexpr std::chrono::seconds ready_timeout{20};

class HttpTarget final : public LoadTarget {
 public:
  explicit HttpTarget(const BenchFlags& flags) {
    if (flags.connect.empty()) {
      cluster_ = std::make_unique<NodeProcesses>(node_processes_spec(flags));
      addresses_ = cluster_->http_addresses();
    } else {
      addresses_ = flags.connect;
    }
    const auto ready = wait_until_ready();
    leader_ = ready.id;
    auto targets = addresses_;
    if (flags.target == Target::leader) targets = {addresses_[ready.index]};
    load_ = std::make_unique<HttpLoad>(targets, flags.concurrency, write_arguments(flags.payload));
  }

  std::string leader() const override { return leader_; }
  void start(std::shared_ptr<LoadRecorder> recorder) override { load_->start(std::move(recorder)); }
  void stop() override { load_->stop(); }

  void check() override {
    throw_if_interrupted();
    if (cluster_) cluster_->check_alive();
  }

  std::vector<ProcessSample> sample() override {
    std::vector<ProcessSample> samples;
    if (cluster_) {
      for (const auto& child : cluster_->processes()) {
        const bool relay = child->name() == "hub" || child->name() == "redis";
        samples.push_back({child->name(), relay ? child->name() : "node",
                           process_cpu_seconds(child->pid()), peak_rss_bytes(child->pid())});
      }
    } else {
      for (const auto& address : addresses_) samples.push_back({address, "node", {}, {}});
    }
    samples.push_back({"bench", "bench", own_cpu_seconds(), own_peak_rss_bytes()});
    return samples;
  }

 private:
  // Waits for the cluster. If it does not become ready, the error says
  // what each node answered and ends with the tail of every log.
  ReadyLeader wait_until_ready() {
    try {
      return wait_for_leader(addresses_, ready_timeout, [this] { check(); });
    } catch (const Interrupted&) {
      throw;
    } catch (const std::runtime_error& error) {
      if (!cluster_) throw;
      throw std::runtime_error(std::string(error.what()) + "\nthe end of their logs:\n" +
                               cluster_->logs(10));
    }
  }

  std::unique_ptr<NodeProcesses> cluster_;  // unset with --connect
  std::vector<std::string> addresses_;
  std::string leader_;
  std::unique_ptr<HttpLoad> load_;  // declared last: stopped before the nodes are killed
};

}  // namespace

std::unique_ptr<LoadTarget> make_http_target(const BenchFlags& flags) {
  return std::make_unique<HttpTarget>(flags);
}

}  // namespace conflux::bench
