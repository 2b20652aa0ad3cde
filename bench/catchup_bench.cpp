// catchup_bench: how fast a follower that fell behind catches up. Three
// nodes in one process on the TCP mesh over loopback (so every entry is
// encoded, framed, sent, decoded and stored as between machines); one
// follower is cut off (Node::set_isolated), the leader commits --entries
// actions of --payload bytes with the other follower, then the link is healed
// and the time until the straggler has applied everything is measured.
//
//   catchup_bench [--entries 1000000] [--payload 256] [--concurrency 64]
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/port_reservation.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "apps.hpp"
#include "node_waits.hpp"
#include "version.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace conflux;
using bench::leader_index;
using bench::run_until;

namespace {

struct Settings {
  std::uint64_t entries = 1'000'000;
  std::size_t payload = 256;
  int concurrency = 64;
};

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const auto value = std::stoull(argv[i + 1]);
    if (name == "--entries")
      settings.entries = value;
    else if (name == "--payload")
      settings.payload = value;
    else if (name == "--concurrency")
      settings.concurrency = static_cast<int>(value);
    else
      throw std::invalid_argument("unknown flag " + name);
  }
  if (argc % 2 == 0)
    throw std::invalid_argument(std::string("flag without a value: ") + argv[argc - 1]);
  return settings;
}

/// Three nodes on loopback ports that `ports` holds while they run.
std::vector<std::unique_ptr<Node>> start_nodes(asio::io_context& io,
                                               std::vector<transport::PortReservation>& ports) {
  std::vector<Peer> peers;
  for (int i = 1; i <= 3; ++i)
    peers.push_back({"n" + std::to_string(i), ports.emplace_back().address()});
  std::vector<std::unique_ptr<Node>> nodes;
  for (const auto& peer : peers) {
    Options options;
    options.id = peer.id;
    options.peers = peers;
    options.channel = TcpChannelOptions{.listen = peer.address, .cluster = "catchup"};
    apps::bench_noop().install(options);
    nodes.push_back(std::make_unique<Node>(io.get_executor(), std::move(options)));
  }
  return nodes;
}

/// One closed-loop client writing until `left` reaches zero.
struct Progress {
  std::uint64_t left = 0;  // writes not yet started
  std::uint64_t done = 0;
  std::uint64_t failed = 0;
};

asio::awaitable<void> client(Node& leader, json::array args, Progress& progress) {
  const std::string method = "write";
  while (progress.left > 0) {
    --progress.left;
    // g++ 12: the call is built outside the co_await expression.
    auto perform = leader.perform(method, args, asio::as_tuple(asio::use_awaitable));
    auto [error, result] = co_await std::move(perform);
    ++progress.done;
    if (error) ++progress.failed;
  }
}

int run(const Settings& settings) {
  asio::io_context io(1);
  std::vector<transport::PortReservation> ports;
  auto nodes = start_nodes(io, ports);
  if (!run_until(
          io, [&] { return leader_index(nodes) >= 0; }, std::chrono::seconds(20)))
    throw std::runtime_error("no leader elected");
  auto& leader = *nodes[static_cast<std::size_t>(leader_index(nodes))];
  auto& straggler = *nodes[static_cast<std::size_t>((leader_index(nodes) + 1) % 3)];
  straggler.set_isolated(true);

  Progress progress{.left = settings.entries, .done = 0, .failed = 0};
  const json::array args{json::string(std::string(settings.payload, 'x'))};
  for (int i = 0; i < settings.concurrency; ++i)
    asio::co_spawn(io, client(leader, args, progress), asio::detached);
  const auto written = [&] { return progress.done == settings.entries; };
  if (!run_until(io, written, std::chrono::seconds(600)))
    throw std::runtime_error("writes stalled");
  const auto target = leader.status().commit;
  const auto behind = target - straggler.status().applied;

  const auto start = Clock::now();
  straggler.set_isolated(false);
  const auto caught_up = [&] { return straggler.status().applied >= target; };
  if (!run_until(io, caught_up, std::chrono::seconds(600)))
    throw std::runtime_error("the follower did not catch up");
  const std::chrono::duration<double> took = Clock::now() - start;

  // Each entry carries the action {"w":"<payload>"}: payload + 8 bytes.
  const double bytes = static_cast<double>(behind) * static_cast<double>(settings.payload + 8);
  std::printf("catch-up over TCP loopback: %llu entries (%zu-byte payload) behind\n",
              static_cast<unsigned long long>(behind), settings.payload);
  std::printf("  took %.2f s: %.0f entries/s, %.1f MB/s of actions (%llu writes failed)\n",
              took.count(), static_cast<double>(behind) / took.count(), bytes / took.count() / 1e6,
              static_cast<unsigned long long>(progress.failed));
  for (auto& node : nodes) node->close([] {});
  io.run_for(std::chrono::seconds(5));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (conflux::cli::printed_version({argv + 1, argv + argc}, "catchup_bench")) return 0;
  try {
    return run(parse(argc, argv));
  } catch (const std::invalid_argument& error) {
    std::cerr << "catchup_bench: " << error.what()
              << "\nusage: catchup_bench [--entries N] [--payload BYTES] [--concurrency N]\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "catchup_bench: " << error.what() << '\n';
    return 1;
  }
}
