// transfer_bench: how long a cluster stops committing when its leader goes
// away, with and without a leadership transfer (thesis §3.10). Three nodes in
// one process (InProcessNetwork), election timeout 300-500 ms, heartbeat
// 50 ms, --concurrency writes always in flight on the one node that is never
// leader nor target. Each round measures the longest gap between two commits
// seen there, across the event:
//   transfer: the leader hands leadership to the other node;
//   crash:    the leader is cut off (set_isolated), so the others elect.
//
//   transfer_bench [--rounds 5] [--concurrency 16]
#include <boost/asio/io_context.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <cstdio>
#include <string>

#include "node_waits.hpp"
#include "version.hpp"

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace conflux;
using bench::leader_index;
using bench::run_until;

namespace {

struct Cluster {
  Cluster() {
    std::vector<Peer> peers{{"n1", ""}, {"n2", ""}, {"n3", ""}};
    for (const auto& peer : peers) {
      Options options;
      options.id = peer.id;
      options.peers = peers;
      options.channel = InProcessChannelOptions{&network};
      options.methods["touch"] = [](const json::value&, const json::array&) -> json::value {
        return json::object{{"t", 1}};
      };
      options.reduce = [](const json::value& state, const json::value& action) -> json::value {
        return action.is_null() ? json::value(0) : json::value(state.to_number<std::int64_t>() + 1);
      };
      options.election_timeout = {std::chrono::milliseconds(300), std::chrono::milliseconds(500)};
      options.heartbeat_interval = std::chrono::milliseconds(50);
      options.perform_timeout = std::chrono::seconds(10);
      nodes.push_back(std::make_unique<Node>(io.get_executor(), options));
    }
  }
  ~Cluster() {
    for (auto& node : nodes) node->close([] {});
    io.restart();
    io.run_for(std::chrono::seconds(2));
  }
  boost::asio::io_context io;
  transport::InProcessNetwork network{1};
  std::vector<std::unique_ptr<Node>> nodes;
};

/// One round: load on `observer`, then `event`; the longest commit gap seen
/// on the observer from just before the event until 2 s after it.
double longest_gap(Cluster& c, std::size_t observer, int concurrency,
                   const std::function<void()>& event) {
  Clock::time_point last = Clock::now();
  double worst = 0;
  bool measuring = false;
  auto watch = c.nodes[observer]->subscribe([&](const json::value&, const json::value&) {
    const auto now = Clock::now();
    if (measuring) worst = std::max(worst, std::chrono::duration<double>(now - last).count());
    last = now;
  });
  bool stop = false;
  int in_flight = 0;
  std::function<void()> issue = [&] {
    if (stop) return;
    ++in_flight;
    c.nodes[observer]->perform("touch", {}, [&](std::exception_ptr, json::value) {
      --in_flight;
      issue();
    });
  };
  for (int i = 0; i < concurrency; ++i) issue();
  run_until(
      c.io, [] { return false; }, std::chrono::seconds(1));  // steady load
  last = Clock::now();
  measuring = true;
  event();
  run_until(
      c.io, [] { return false; }, std::chrono::seconds(2));
  stop = true;
  run_until(
      c.io, [&] { return in_flight == 0; }, std::chrono::seconds(15));
  return worst * 1000;
}

}  // namespace

int main(int argc, char** argv) {
  if (conflux::cli::printed_version({argv + 1, argv + argc}, "transfer_bench")) return 0;
  int rounds = 5;
  int concurrency = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rounds") rounds = std::stoi(argv[i + 1]);
    if (flag == "--concurrency") concurrency = std::stoi(argv[i + 1]);
  }
  std::printf("event     round  longest commit gap (ms)\n");
  for (const bool transfer : {true, false}) {
    for (int round = 1; round <= rounds; ++round) {
      Cluster c;
      if (!run_until(
              c.io, [&] { return leader_index(c.nodes) >= 0; }, std::chrono::seconds(10))) {
        std::fprintf(stderr, "no leader\n");
        return 1;
      }
      const auto leader = static_cast<std::size_t>(leader_index(c.nodes));
      const auto target = (leader + 1) % 3;
      const auto observer = (leader + 2) % 3;
      const auto gap = longest_gap(c, observer, concurrency, [&] {
        if (transfer) {
          c.nodes[leader]->transfer_leadership(c.nodes[target]->status().id,
                                               [](std::exception_ptr, json::value) {});
        } else {
          c.nodes[leader]->set_isolated(true);
        }
      });
      // The measurement counts only if leadership did move.
      const auto now = leader_index(c.nodes);
      const bool moved =
          transfer ? now == static_cast<int>(target) : now >= 0 && now != static_cast<int>(leader);
      std::printf("%-9s %5d  %8.1f%s\n", transfer ? "transfer" : "crash", round, gap,
                  moved ? "" : "  (leadership did not move: not counted)");
      if (!moved) return 1;
    }
  }
  return 0;
}
