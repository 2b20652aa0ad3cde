// Snapshots through the Node API (Raft §7): a node that fell behind the
// leader's compaction catches up by snapshot, a snapshot can be asked for,
// and the metrics and status say what happened.
#include <doctest/doctest.h>

#include <algorithm>

#include "lib/cluster_fixture.hpp"

using namespace conflux;
using namespace conflux::test;

namespace {

void snapshot_every(Options& options, std::uint64_t entries) {
  options.snapshot = {.entries = entries, .bytes = 0, .trailing_entries = 3};
}

/// Performs append(first..last) through `node`, one at a time.
void append_all(NodeCluster& cluster, Node& node, int first, int last) {
  for (int i = first; i <= last; ++i) {
    Result result;
    node.perform("append", {i}, result.handler());
    REQUIRE(run_until(cluster.io, [&] { return result.done; }));
    REQUIRE_MESSAGE(!result.error, result.message());
  }
}

boost::json::value numbers(int first, int last) {
  boost::json::array out;
  for (int i = first; i <= last; ++i) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("snapshots: a follower cut off while the leader compacted catches up by snapshot") {
  for (const auto wire : {Wire::in_process, Wire::tcp, Wire::tls}) {
    CAPTURE(to_string(wire));
    NodeCluster cluster(3, wire, false, [](Options& o) { snapshot_every(o, 20); });
    REQUIRE(cluster.wait_for_leader());
    const auto leader = static_cast<std::size_t>(cluster.leader());
    const auto behind = (leader + 1) % 3;
    cluster.node(behind).set_isolated(true);
    append_all(cluster, cluster.node(leader), 1, 60);
    REQUIRE(run_until(cluster.io, [&] {
      const auto status = cluster.node(leader).status();
      return status.first_index > cluster.node(behind).status().last_index + 1;
    }));
    cluster.node(behind).set_isolated(false);

    CHECK(run_until(cluster.io, [&] { return cluster.converged(numbers(1, 60)); }));
    CHECK(cluster.node(behind).metrics().snapshots_installed >= 1);
    CHECK(cluster.node(leader).metrics().snapshots_sent >= 1);
    CHECK(cluster.node(behind).status().snapshot_index > 0);
    // And it goes on from the log afterwards.
    append_all(cluster, cluster.node(leader), 61, 62);
    CHECK(run_until(cluster.io, [&] { return cluster.converged(numbers(1, 62)); }));
  }
}

TEST_CASE("snapshots: the thresholds keep the log short, and each snapshot is counted") {
  NodeCluster cluster(3, Wire::in_process, true, [](Options& o) { snapshot_every(o, 10); });
  REQUIRE(cluster.wait_for_leader());
  auto& leader = cluster.node(static_cast<std::size_t>(cluster.leader()));
  append_all(cluster, leader, 1, 45);
  REQUIRE(run_until(cluster.io, [&] { return leader.status().snapshot_index >= 40; }));
  const auto status = leader.status();
  CHECK(status.last_index - status.first_index + 1 <= 10 + 3 + 2);  // threshold, trailing, no-ops
  const auto metrics = leader.metrics();
  CHECK(metrics.snapshots_taken >= 2);  // under load one snapshot may cover several thresholds
  CHECK(metrics.snapshot_duration.count() == metrics.snapshots_taken);
  CHECK(metrics.snapshot_bytes == status.snapshot_bytes);
  CHECK(leader.log_tail(100).front().index == status.first_index);
}

TEST_CASE(
    "snapshots: a state that would not read back is not snapshotted, the log is kept, and the "
    "node serves on") {
  std::vector<std::string> lines;
  NodeCluster cluster(3, Wire::in_process, false, [&](Options& o) {
    snapshot_every(o, 0);
    o.log = [&](LogLevel, std::string_view line) { lines.emplace_back(line); };
  });
  REQUIRE(cluster.wait_for_leader());
  auto& node = cluster.node(0);
  append_all(cluster, node, 1, 2);
  Result infinite;
  node.perform("infinity", {}, infinite.handler());
  REQUIRE(run_until(cluster.io, [&] { return infinite.done; }));
  REQUIRE_MESSAGE(!infinite.error, infinite.message());
  REQUIRE(run_until(cluster.io, [&] { return node.status().applied >= 5; }));
  node.request_snapshot();
  const auto refused = [&] {
    return std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
      return line.find(
                 "snapshot failed (the log is not compacted): the state holds a number "
                 "that is not finite") != std::string::npos;
    });
  };
  REQUIRE(run_until(cluster.io, refused));
  CHECK(node.status().snapshot_index == 0);
  append_all(cluster, node, 3, 3);
  CHECK(node.state().as_array().size() == 4);
}

TEST_CASE("snapshots: request_snapshot() compacts on demand, with the thresholds off") {
  NodeCluster cluster(3, Wire::in_process, false, [](Options& o) { snapshot_every(o, 0); });
  REQUIRE(cluster.wait_for_leader());
  auto& node = cluster.node(0);
  append_all(cluster, node, 1, 5);
  REQUIRE(run_until(cluster.io, [&] { return node.status().applied >= 6; }));
  CHECK(node.status().snapshot_index == 0);
  node.request_snapshot();
  CHECK(run_until(cluster.io, [&] { return node.status().snapshot_index >= 6; }));
  CHECK(node.state() == numbers(1, 5));
}
