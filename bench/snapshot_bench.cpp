// snapshot_bench: what snapshots cost a running cluster, and how fast they
// move. Three nodes in one process; the state is a map of --keys strings of
// --value bytes, grown by actions that carry only a key, a length and a seed
// (the reducer expands them), so the log stays small and the state large.
//
//   snapshot_bench stall   [--state-mb 100] [--seconds 10] [--concurrency 16]
//     Perform latency of small writes (p50, p99, max) with snapshots off,
//     then with a snapshot of the whole state always being taken; and the
//     time to copy the state once, the one step on the node's thread.
//   snapshot_bench catchup [--state-mb 1024]
//     On the TCP mesh: a follower cut off while the state grows, the leader
//     compacts, the link heals; the follower receives the snapshot (MB/s).
//     Then a durable node holding the state restarts: the time to open it.
//   snapshot_bench join    [--state-mb 1024]
//     On the TCP mesh: a new node in join mode is added to the cluster as a
//     learner (thesis §4.2.1), receives the snapshot, then is promoted: the
//     time each step takes.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <conflux/transport/port_reservation.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "latency.hpp"
#include "node_waits.hpp"
#include "support/temp_dir.hpp"
#include "version.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace conflux;
using bench::leader_index;
using bench::run_until;

namespace {

struct Settings {
  std::string measure;
  std::uint64_t state_mb = 0;
  double seconds = 10;
  int concurrency = 16;
};

constexpr std::size_t value_bytes = 64 << 10;

/// put(key, seed): the action {"k": key, "s": seed}, expanded by the reducer
/// into a value_bytes string; touch(): a small action that changes one counter.
void install_app(Options& options) {
  options.methods["put"] = [](const json::value&, const json::array& args) -> json::value {
    return json::object{{"k", args.at(0)}, {"s", args.at(1)}};
  };
  options.methods["touch"] = [](const json::value&, const json::array&) -> json::value {
    return json::object{{"t", 1}};
  };
  options.reduce_in_place = [](json::value& state, const json::value& action) {
    if (!state.is_object()) state = json::object{{"touches", 0}};
    if (!action.is_object()) return;
    auto& map = state.as_object();
    if (action.as_object().contains("t")) {
      map["touches"] = map["touches"].to_number<std::int64_t>() + 1;
      return;
    }
    const auto seed = action.at("s").to_number<std::int64_t>();
    std::string value(value_bytes, 'a');
    for (std::size_t i = 0; i < value.size(); i += 61)
      value[i] = static_cast<char>('a' + (seed + static_cast<std::int64_t>(i)) % 26);
    map[action.at("k").as_string()] = std::move(value);
  };
}

/// Grows the state to `megabytes` through `leader`, 16 puts in flight.
void fill(asio::io_context& io, Node& leader, std::uint64_t megabytes) {
  const auto keys = megabytes * (1 << 20) / value_bytes;
  std::uint64_t started = 0, done = 0;
  std::function<void()> next = [&] {
    if (started == keys) return;
    const auto key = started++;
    leader.perform("put", {json::value("k" + std::to_string(key)), json::value(key)},
                   std::chrono::seconds(60), [&](std::exception_ptr error, json::value) {
                     if (error) std::rethrow_exception(error);
                     ++done;
                     next();
                   });
  };
  for (int i = 0; i < 16; ++i) next();
  if (!run_until(
          io, [&] { return done == keys; }, std::chrono::seconds(1200)))
    throw std::runtime_error("filling the state stalled");
}

/// Closed-loop touch() writes for `seconds`; their latencies.
bench::LatencyHistogram load(asio::io_context& io, Node& leader, const Settings& settings,
                             const std::function<void()>& meanwhile) {
  bench::LatencyHistogram latencies;
  const auto end = Clock::now() + std::chrono::duration<double>(settings.seconds);
  int running = settings.concurrency;
  std::function<void()> next = [&] {
    if (Clock::now() >= end) return void(--running);
    const auto start = Clock::now();
    leader.perform(
        "touch", {}, std::chrono::seconds(30), [&, start](std::exception_ptr error, json::value) {
          if (error) std::rethrow_exception(error);
          latencies.record(
              static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - start).count()));
          next();
        });
  };
  for (int i = 0; i < settings.concurrency; ++i) next();
  while (running > 0) {
    io.run_one_for(std::chrono::milliseconds(10));
    meanwhile();
  }
  return latencies;
}

std::vector<std::unique_ptr<Node>> in_process_nodes(asio::io_context& io,
                                                    transport::InProcessNetwork& network) {
  std::vector<Peer> peers{{"n1", ""}, {"n2", ""}, {"n3", ""}};
  std::vector<std::unique_ptr<Node>> nodes;
  for (const auto& peer : peers) {
    Options options;
    options.id = peer.id;
    options.peers = peers;
    options.channel = InProcessChannelOptions{&network};
    options.snapshot = {0, 0, 1024};  // only on request
    install_app(options);
    nodes.push_back(std::make_unique<Node>(io.get_executor(), std::move(options)));
  }
  return nodes;
}

void print(const char* what, const bench::LatencyHistogram& latencies) {
  std::printf("  %-28s %8llu writes  p50 %7.3f ms  p99 %7.3f ms  max %8.3f ms\n", what,
              static_cast<unsigned long long>(latencies.count()),
              static_cast<double>(latencies.quantile(0.5)) / 1e6,
              static_cast<double>(latencies.quantile(0.99)) / 1e6,
              static_cast<double>(latencies.max()) / 1e6);
}

int stall(const Settings& settings) {
  asio::io_context io(1);
  transport::InProcessNetwork network;
  auto nodes = in_process_nodes(io, network);
  if (!run_until(
          io, [&] { return leader_index(nodes) >= 0; }, std::chrono::seconds(20)))
    throw std::runtime_error("no leader elected");
  auto& leader = *nodes[static_cast<std::size_t>(leader_index(nodes))];
  fill(io, leader, settings.state_mb);
  const auto copy_start = Clock::now();
  json::value copy = leader.state();
  const std::chrono::duration<double> copy_took = Clock::now() - copy_start;
  copy = nullptr;

  std::printf("snapshot stall: 3 nodes in one process, a %llu MB state, %d writers\n",
              static_cast<unsigned long long>(settings.state_mb), settings.concurrency);
  const auto quiet = load(io, leader, settings, [] {});
  print("no snapshot", quiet);
  std::uint64_t requested = 0;
  const auto busy = load(io, leader, settings, [&] {
    // Always one snapshot under way on the leader. (The followers share
    // this process's one thread: their copies would stall the leader too,
    // which separate processes do not.)
    const auto taken = leader.metrics().snapshots_taken;
    if (taken >= requested) {
      leader.request_snapshot();
      requested = taken + 1;
    }
  });
  print("snapshots always under way", busy);
  const auto metrics = leader.metrics();
  std::printf("  snapshots taken by the leader: %llu, last %.1f MB, mean %.2f s each\n",
              static_cast<unsigned long long>(metrics.snapshots_taken),
              static_cast<double>(metrics.snapshot_bytes) / 1e6,
              metrics.snapshot_duration.sum() / static_cast<double>(std::max<std::uint64_t>(
                                                    1, metrics.snapshot_duration.count())));
  std::printf("  copying the state once (on the node's thread): %.1f ms\n",
              copy_took.count() * 1e3);
  std::printf("  p99 with / without: %.2f\n",
              static_cast<double>(busy.quantile(0.99)) / static_cast<double>(quiet.quantile(0.99)));
  for (auto& node : nodes) node->close([] {});
  io.run_for(std::chrono::seconds(30));
  return 0;
}

/// Snapshots only on request; `trailing` entries are kept before one.
Options tcp_options(const std::vector<Peer>& peers, std::size_t i,
                    const std::filesystem::path& root, std::uint64_t trailing = 1024) {
  Options options;
  options.id = peers[i].id;
  options.peers = peers;
  options.channel = TcpChannelOptions{.listen = peers[i].address, .cluster = "snapshot-bench"};
  options.snapshot = {0, 0, trailing};
  options.data_dir = root / peers[i].id;
  options.fsync = storage::FsyncPolicy::never;  // the fill is not what is measured
  options.election_timeout = {std::chrono::milliseconds(2000), std::chrono::milliseconds(3000)};
  install_app(options);
  return options;
}

/// n1, n2 and n3 on loopback ports of their own.
/// `count` peers on loopback ports that `ports` holds while the bench runs.
std::vector<Peer> loopback_peers(int count, std::vector<transport::PortReservation>& ports) {
  std::vector<Peer> peers;
  for (int i = 1; i <= count; ++i)
    peers.push_back({"n" + std::to_string(i), ports.emplace_back().address()});
  return peers;
}

/// Starts a node for each of `peers` and waits for a leader; its index.
std::size_t start_tcp(asio::io_context& io, const std::vector<Peer>& peers,
                      const std::filesystem::path& root, std::vector<std::unique_ptr<Node>>& nodes,
                      std::uint64_t trailing = 1024) {
  for (std::size_t i = 0; i < peers.size(); ++i) {
    nodes.push_back(
        std::make_unique<Node>(io.get_executor(), tcp_options(peers, i, root, trailing)));
  }
  if (!run_until(
          io, [&] { return leader_index(nodes) >= 0; }, std::chrono::seconds(30)))
    throw std::runtime_error("no leader elected");
  return static_cast<std::size_t>(leader_index(nodes));
}

/// Grows the state to `megabytes` through `leader`, which then snapshots
/// it; the index the snapshot covers.
std::uint64_t fill_and_snapshot(asio::io_context& io, Node& leader, std::uint64_t megabytes) {
  fill(io, leader, megabytes);
  leader.request_snapshot();
  const auto target = leader.status().applied;
  if (!run_until(
          io, [&] { return leader.status().snapshot_index >= target; }, std::chrono::seconds(600)))
    throw std::runtime_error("the leader did not snapshot");
  return target;
}

int catchup(const Settings& settings) {
  test::TempDir root("conflux-snapshot-bench");  // first: removed after the nodes are gone
  asio::io_context io(1);
  std::vector<transport::PortReservation> ports;
  const auto peers = loopback_peers(3, ports);
  std::vector<std::unique_ptr<Node>> nodes;
  const auto leader_at = start_tcp(io, peers, root.path(), nodes);
  auto& leader = *nodes[leader_at];
  const auto behind_at = (leader_at + 1) % 3;
  auto& behind = *nodes[behind_at];
  behind.set_isolated(true);
  const auto target = fill_and_snapshot(io, leader, settings.state_mb);
  const auto bytes = leader.status().snapshot_bytes;

  const auto start = Clock::now();
  behind.set_isolated(false);
  if (!run_until(
          io, [&] { return behind.status().applied >= target; }, std::chrono::seconds(1200)))
    throw std::runtime_error("the follower did not catch up");
  const std::chrono::duration<double> took = Clock::now() - start;
  std::printf("catch-up by snapshot over the TCP mesh (loopback): a %.1f MB snapshot\n",
              static_cast<double>(bytes) / 1e6);
  std::printf("  installed in %.2f s: %.0f MB/s (snapshots installed: %llu)\n", took.count(),
              static_cast<double>(bytes) / 1e6 / took.count(),
              static_cast<unsigned long long>(behind.metrics().snapshots_installed));

  // The follower now holds the state in its snapshot: restart it.
  bool closed = false;
  behind.close([&] { closed = true; });
  run_until(
      io, [&] { return closed; }, std::chrono::seconds(60));
  nodes[behind_at].reset();
  io.poll();
  const auto open_start = Clock::now();
  nodes[behind_at] =
      std::make_unique<Node>(io.get_executor(), tcp_options(peers, behind_at, root.path()));
  const std::chrono::duration<double> opened = Clock::now() - open_start;
  std::printf("  a node holding it restarts in %.2f s (snapshot checked, parsed, state restored)\n",
              opened.count());
  for (auto& node : nodes) node->close([] {});
  io.run_for(std::chrono::seconds(30));
  return 0;
}

/// Runs `call` (a membership call on a node, given its completion handler)
/// to completion; the seconds it took.
double timed(
    asio::io_context& io, const char* what,
    const std::function<void(std::function<void(std::exception_ptr, json::value)>)>& call) {
  bool done = false;
  std::exception_ptr failure;
  const auto start = Clock::now();
  call([&](std::exception_ptr error, json::value) {
    failure = error;
    done = true;
  });
  if (!run_until(
          io, [&] { return done; }, std::chrono::seconds(1200)))
    throw std::runtime_error(std::string(what) + " did not complete");
  if (failure) std::rethrow_exception(failure);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int join(const Settings& settings) {
  test::TempDir root("conflux-snapshot-bench");  // first: removed after the nodes are gone
  asio::io_context io(1);
  std::vector<transport::PortReservation> ports;
  auto peers = loopback_peers(4, ports);
  const auto joiner = peers.back();
  peers.pop_back();
  std::vector<std::unique_ptr<Node>> nodes;
  // No entries kept behind the snapshot: the learner must be sent it.
  auto& leader = *nodes[start_tcp(io, peers, root.path(), nodes, 0)];
  const auto target = fill_and_snapshot(io, leader, settings.state_mb);
  const auto bytes = leader.status().snapshot_bytes;

  auto options = tcp_options({joiner}, 0, root.path(), 0);
  options.join = true;
  nodes.push_back(std::make_unique<Node>(io.get_executor(), std::move(options)));
  auto& learner = *nodes.back();
  const auto start = Clock::now();
  const auto added =
      timed(io, "add_member", [&](auto done) { leader.add_member(joiner, true, std::move(done)); });
  if (!run_until(
          io, [&] { return learner.status().applied >= target; }, std::chrono::seconds(1200)))
    throw std::runtime_error("the learner did not catch up");
  const std::chrono::duration<double> caught_up = Clock::now() - start;
  const auto promoted = timed(io, "promote", [&](auto done) { leader.promote(joiner.id, done); });
  std::printf("a learner joins a cluster holding a %.1f MB snapshot (TCP loopback, one process)\n",
              static_cast<double>(bytes) / 1e6);
  std::printf("  added as a learner (its configuration committed) in %.3f s\n", added);
  std::printf("  caught up (%llu snapshot installed, %.0f MB/s) %.2f s after the call\n",
              static_cast<unsigned long long>(learner.metrics().snapshots_installed),
              static_cast<double>(bytes) / 1e6 / caught_up.count(), caught_up.count());
  std::printf("  promoted to voter (C_old,new and C_new committed) in %.3f s\n", promoted);
  for (auto& node : nodes) node->close([] {});
  io.run_for(std::chrono::seconds(30));
  return 0;
}

Settings parse(int argc, char** argv) {
  if (argc < 2) throw std::invalid_argument("which measure: stall, catchup or join");
  Settings settings;
  settings.measure = argv[1];
  settings.state_mb = settings.measure == "stall" ? 100 : 1024;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--state-mb")
      settings.state_mb = std::stoull(value);
    else if (name == "--seconds")
      settings.seconds = std::stod(value);
    else if (name == "--concurrency")
      settings.concurrency = std::stoi(value);
    else
      throw std::invalid_argument("unknown flag " + name);
  }
  if (argc % 2 == 1) throw std::invalid_argument("a flag without a value");
  if (settings.measure != "stall" && settings.measure != "catchup" && settings.measure != "join")
    throw std::invalid_argument("unknown measure " + settings.measure);
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  if (conflux::cli::printed_version({argv + 1, argv + argc}, "snapshot_bench")) return 0;
  try {
    const auto settings = parse(argc, argv);
    if (settings.measure == "stall") return stall(settings);
    return settings.measure == "catchup" ? catchup(settings) : join(settings);
  } catch (const std::invalid_argument& error) {
    std::cerr << "snapshot_bench: " << error.what()
              << "\nusage: snapshot_bench stall|catchup|join [--state-mb N] [--seconds S] "
                 "[--concurrency C]\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "snapshot_bench: " << error.what() << '\n';
    return 1;
  }
}
