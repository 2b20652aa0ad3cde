// Durable nodes: acknowledged actions survive a restart, and survive every
// node of a cluster being SIGKILLed at once.

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <random>
#include <set>

#include "lib/cluster_fixture.hpp"

using namespace conflux;
using namespace conflux::test;
namespace fs = std::filesystem;

namespace {

fs::path fresh_directory(const std::string& name) {
  const auto path =
      fs::temp_directory_path() / ("conflux-" + name + "-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(std::random_device{}()));
  fs::remove_all(path);
  return path;
}

/// Three durable nodes in one io_context, in `root`/n1..n3.
std::vector<std::unique_ptr<Node>> durable_cluster(boost::asio::io_context& io,
                                                   transport::InProcessNetwork& net,
                                                   const fs::path& root,
                                                   Options::SnapshotPolicy snapshot = {}) {
  std::vector<Peer> peers{{"n1", ""}, {"n2", ""}, {"n3", ""}};
  std::vector<std::unique_ptr<Node>> nodes;
  for (const auto& peer : peers) {
    Options options;
    options.id = peer.id;
    options.peers = peers;
    options.channel = InProcessChannelOptions{&net};
    options.methods = list_methods();
    options.reduce = list_reduce;
    options.election_timeout = {std::chrono::milliseconds(100), std::chrono::milliseconds(200)};
    options.heartbeat_interval = std::chrono::milliseconds(20);
    options.data_dir = root / peer.id;
    options.snapshot = snapshot;
    nodes.push_back(std::make_unique<Node>(io.get_executor(), options));
  }
  return nodes;
}

/// The child: performs append(first), append(first + 1), ... on rotating
/// nodes, 8 in flight, and writes each acknowledged number to `out`.
[[noreturn]] void run_child(const fs::path& root, int out, std::int64_t first) {
  boost::asio::io_context io;
  transport::InProcessNetwork net;
  auto nodes = durable_cluster(io, net, root);
  std::int64_t next = first;
  std::function<void()> start_one = [&] {
    const auto value = next++;
    nodes[static_cast<std::size_t>(value % 3)]->perform(
        "append", {value}, std::chrono::seconds(5),
        [&, value](std::exception_ptr error, boost::json::value) {
          if (!error && ::write(out, &value, sizeof value) != sizeof value) ::_exit(3);
          start_one();
        });
  };
  for (int i = 0; i < 8; ++i) start_one();
  io.run();
  ::_exit(0);
}

}  // namespace

TEST_CASE("durable: a restarted node has every committed action") {
  const auto root = fresh_directory("restart");
  {
    boost::asio::io_context io;
    transport::InProcessNetwork net;
    auto nodes = durable_cluster(io, net, root);
    for (int i = 0; i < 5; ++i) {
      Result result;
      nodes[static_cast<std::size_t>(i % 3)]->perform("append", {i}, std::chrono::seconds(5),
                                                      result.handler());
      REQUIRE(run_until(io, [&] { return result.done; }));
      REQUIRE_FALSE(result.error);
    }
    for (auto& node : nodes) node->close([] {});
    io.run_for(std::chrono::seconds(5));
  }
  boost::asio::io_context io;
  transport::InProcessNetwork net;
  auto nodes = durable_cluster(io, net, root);
  const boost::json::value expected = boost::json::array{0, 1, 2, 3, 4};
  CHECK(run_until(io, [&] {
    return std::all_of(nodes.begin(), nodes.end(), [&](auto& n) { return n->state() == expected; });
  }));
  for (auto& node : nodes) node->close([] {});
  io.run_for(std::chrono::seconds(5));
  nodes.clear();
  io.restart();
  io.poll();  // the nodes' last handlers release their storage before the files go
  fs::remove_all(root);
}

TEST_CASE("durable: a restarted node loads its snapshot and replays only the log after it") {
  const auto root = fresh_directory("snapshot");
  const Options::SnapshotPolicy every_ten{.entries = 10, .bytes = 0, .trailing_entries = 2};
  boost::json::array expected;
  {
    boost::asio::io_context io;
    transport::InProcessNetwork net;
    auto nodes = durable_cluster(io, net, root, every_ten);
    for (int i = 0; i < 35; ++i) {
      Result result;
      nodes[static_cast<std::size_t>(i % 3)]->perform("append", {i}, std::chrono::seconds(5),
                                                      result.handler());
      REQUIRE(run_until(io, [&] { return result.done; }));
      REQUIRE_FALSE(result.error);
      expected.push_back(i);
    }
    REQUIRE(run_until(io, [&] {
      return std::all_of(nodes.begin(), nodes.end(),
                         [](auto& n) { return n->status().snapshot_index >= 30; });
    }));
    for (auto& node : nodes) node->close([] {});
    io.run_for(std::chrono::seconds(5));
  }
  boost::asio::io_context io;
  transport::InProcessNetwork net;
  auto nodes = durable_cluster(io, net, root, every_ten);
  for (auto& node : nodes) {
    const auto status = node->status();
    CHECK(status.snapshot_index >= 30);
    CHECK(status.first_index == status.snapshot_index + 1);
    CHECK(status.snapshot_bytes > 0);
  }
  CHECK(run_until(io, [&] {
    return std::all_of(nodes.begin(), nodes.end(),
                       [&](auto& n) { return n->state() == boost::json::value(expected); });
  }));
  for (auto& node : nodes) node->close([] {});
  io.run_for(std::chrono::seconds(5));
  nodes.clear();
  io.restart();
  io.poll();
  fs::remove_all(root);
}

TEST_CASE("durable: all three nodes SIGKILLed mid-stream keep every acknowledged perform") {
  const auto root = fresh_directory("kill");
  std::set<std::int64_t> acknowledged;
  std::mt19937 random(20261122);
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(fds[0]);
      run_child(root, fds[1], round * 1'000'000);
    }
    ::close(fds[1]);
    // Let it acknowledge a random number of performs, then kill everything.
    const std::size_t target = acknowledged.size() + 20 + random() % 60;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (acknowledged.size() < target && std::chrono::steady_clock::now() < deadline) {
      pollfd poll_fd{fds[0], POLLIN, 0};
      if (::poll(&poll_fd, 1, 100) <= 0) continue;
      std::int64_t value = 0;
      if (::read(fds[0], &value, sizeof value) != sizeof value) break;
      acknowledged.insert(value);
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ::close(fds[0]);
    REQUIRE(acknowledged.size() >= target);
    // Restart and check: every acknowledged action is in every node's state.
    boost::asio::io_context io;
    transport::InProcessNetwork net;
    auto nodes = durable_cluster(io, net, root);
    const auto has_all = [&](Node& node) {
      std::set<std::int64_t> values;
      for (const auto& item : node.state().as_array()) values.insert(item.as_int64());
      return std::includes(values.begin(), values.end(), acknowledged.begin(), acknowledged.end());
    };
    CHECK(run_until(io, [&] {
      return std::all_of(nodes.begin(), nodes.end(), [&](auto& n) { return has_all(*n); });
    }));
    for (auto& node : nodes) node->close([] {});
    io.run_for(std::chrono::seconds(5));
  }
  MESSAGE(acknowledged.size(), " acknowledged performs checked after 3 whole-cluster kills");
  fs::remove_all(root);
}
