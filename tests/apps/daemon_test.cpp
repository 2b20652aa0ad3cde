// conflux-node as a cluster of processes: replication through the HTTP
// API, leader crash and restart, a paused leader, and the process's own
// life (signals, exit codes). Each test starts its nodes with short Raft
// timings and prints the nodes' logs if an assertion fails.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <conflux/transport/port_reservation.hpp>
#include <cstdlib>
#include <fstream>
#include <future>
#include <random>
#include <sstream>

#include "apps/daemon_cluster.hpp"
#include "apps/kv_workload.hpp"
#include "apps/leader_sampler.hpp"
#include "apps/poll_until.hpp"
#include "support/temp_dir.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;

/// Terms in which more than one node claimed leadership (Raft §5.2).
std::string split_brains(const LeaderSampler& sampler) {
  std::string out;
  for (const auto& [term, ids] : sampler.leaders_by_term()) {
    if (ids.size() < 2) continue;
    out += "term " + std::to_string(term) + ":";
    for (const auto& id : ids) out += " " + id;
    out += "; ";
  }
  return out;
}

void check_workload(const KvWorkload& workload, const json::value& state) {
  check_every_write(workload, state);
  INFO(workload.summary());
  // A client's request in flight on the killed node dies with it (lost). Its
  // next request may reach a follower that still forwards to the dead leader
  // and learns of the new one only after an election timeout: that answer
  // is 504 outcome_unknown. After that the new leader is known everywhere.
  for (const auto failures : workload.failures_per_client()) {
    CHECK(failures.answered <= 1);
    CHECK(failures.lost <= 1);
  }
}

}  // namespace

TEST_CASE("writes performed on random nodes of 3- and 5-node clusters reach every node's state") {
  for (const std::size_t size : {3, 5}) {
    const auto seed = test_seed();
    MESSAGE("cluster of ", size, ", seed ", seed, " (replay with CONFLUX_TEST_SEED)");
    std::mt19937_64 random(seed);
    DaemonCluster cluster(size);
    INFO(cluster.logs());
    REQUIRE(cluster.wait_for_leader());

    std::string expected_log;
    for (int i = 0; i < 30; ++i) {
      const auto node = static_cast<std::size_t>(random() % size);
      const json::array put{json::value("k" + std::to_string(i)), json::value(i)};
      const json::array append{json::value("log"), json::value(std::to_string(i) + ",")};
      const auto reply = cluster.perform(node, i % 3 ? "put" : "append", i % 3 ? put : append);
      REQUIRE_MESSAGE(reply.status == 200, "node ", node, ": ", reply);
      if (i % 3 == 0) expected_log += std::to_string(i) + ",";
    }

    const auto state = cluster.wait_for_same_state();
    REQUIRE(state);
    CHECK(state->at("log") == json::value(expected_log));
    for (int i = 0; i < 30; ++i) {
      if (i % 3) CHECK(state->at("k" + std::to_string(i)) == json::value(i));
    }
  }
}

TEST_CASE(
    "a SIGKILLed leader is replaced while clients perform, and no acknowledged write is lost") {
  const auto seed = test_seed();
  MESSAGE("seed ", seed, " (replay with CONFLUX_TEST_SEED)");
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto old_leader = cluster.wait_for_leader();
  REQUIRE(old_leader);
  LeaderSampler sampler(cluster.http_ports());
  KvWorkload workload(cluster.http_ports(), 3, seed);
  REQUIRE(workload.wait_for_progress(15, 10s));

  workload.avoid(*old_leader);
  cluster.process(*old_leader).kill();
  const auto new_leader = cluster.wait_for_leader();
  REQUIRE(new_leader);
  CHECK(*new_leader != *old_leader);
  CHECK(workload.wait_for_progress(30, 10s));  // performs continue
  workload.stop();
  sampler.stop();

  const auto state = cluster.wait_for_same_state();
  REQUIRE(state);
  check_workload(workload, *state);
  CHECK_MESSAGE(split_brains(sampler).empty(), split_brains(sampler));
}

TEST_CASE("a killed leader restarted on its data directory catches up with what it missed") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto old_leader = cluster.wait_for_leader();
  REQUIRE(old_leader);
  for (int i = 0; i < 10; ++i) {
    const json::array args{json::value("before-" + std::to_string(i)), json::value(i)};
    REQUIRE(cluster.perform(*old_leader, "put", args).status == 200);
  }

  cluster.process(*old_leader).kill();
  const auto new_leader = cluster.wait_for_leader();
  REQUIRE(new_leader);
  for (int i = 0; i < 10; ++i) {
    const json::array args{json::value("after-" + std::to_string(i)), json::value(i)};
    REQUIRE(cluster.perform(*new_leader, "put", args).status == 200);
  }
  cluster.start(*old_leader);

  REQUIRE(cluster.live(*old_leader));
  const auto state = cluster.wait_for_same_state();  // includes the restarted node
  REQUIRE(state);
  CHECK(state->as_object().size() == 20);
  CHECK(state->at("before-9") == 9);
  CHECK(state->at("after-9") == 9);
  const auto restarted = cluster.status(*old_leader);
  REQUIRE(restarted);
  CHECK(restarted->role == "follower");
  CHECK(restarted->leader == cluster.id(*new_leader));
}

TEST_CASE(
    "a leader paused past the election timeout steps down when resumed, and no term has two "
    "leaders") {
  const auto seed = test_seed();
  MESSAGE("seed ", seed, " (replay with CONFLUX_TEST_SEED)");
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto old_leader = cluster.wait_for_leader();
  REQUIRE(old_leader);
  const auto before = cluster.status(*old_leader);
  REQUIRE(before);
  const auto old_term = before->term;
  LeaderSampler sampler(cluster.http_ports(), 5ms);
  KvWorkload workload(cluster.http_ports(), 2, seed);
  REQUIRE(workload.wait_for_progress(10, 10s));

  workload.avoid(*old_leader);
  cluster.process(*old_leader).pause();
  // A write sent to the paused leader: served, if ever, once it resumes
  // believing it still leads.
  const json::array stale_args{json::value("stale"), json::value(1)};
  auto stale = std::async(std::launch::async,
                          [&] { return cluster.perform(*old_leader, "put", stale_args, 8s); });
  const auto new_leader = cluster.wait_for_leader();  // the paused node is not asked
  REQUIRE(new_leader);
  CHECK(*new_leader != *old_leader);
  REQUIRE(workload.wait_for_progress(10, 10s));

  cluster.process(*old_leader).resume();
  CHECK(poll_until(
      [&] {
        const auto s = cluster.status(*old_leader, 200ms);
        return s && s->role == "follower" && s->term > old_term;
      },
      5s));
  workload.allow(*old_leader);
  CHECK(workload.wait_for_progress(10, 10s));
  workload.stop();
  const auto stale_reply = stale.get();
  sampler.stop();

  const auto state = cluster.wait_for_same_state();
  REQUIRE(state);
  check_workload(workload, *state);
  const auto stale_outcome = classify(stale_reply);
  INFO("the write sent to the paused leader got ", stale_reply);
  CHECK(stale_outcome != Outcome::unexpected);
  if (stale_outcome == Outcome::acknowledged) CHECK(state->as_object().contains("stale"));
  if (stale_outcome == Outcome::not_committed) CHECK_FALSE(state->as_object().contains("stale"));
  CHECK(sampler.samples() > 50);
  CHECK(sampler.leaders_by_term().size() >= 2);  // the sampler saw both leaderships
  CHECK_MESSAGE(split_brains(sampler).empty(), split_brains(sampler));
}

TEST_CASE("a cluster over a conflux-hub elects, commits, and recovers after a hub restart") {
  TempDir scratch("conflux-hub-test");
  const transport::PortReservation hub_port;  // held: the hub restarts on it
  const auto port = std::to_string(hub_port.port());
  const std::vector<std::string> hub_args{"--listen", "127.0.0.1:" + port};
  auto hub =
      std::make_unique<ChildProcess>(CONFLUX_HUB_BINARY, hub_args, scratch.path() / "hub1.log");
  DaemonCluster cluster(3, {"--channel", "ws", "--hub", "ws://127.0.0.1:" + port + "/procs"});
  INFO(cluster.logs());
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const json::array before{"before", 1};
  REQUIRE(cluster.perform((*leader + 1) % 3, "put", before).status == 200);  // forwarded

  hub->kill();
  hub = std::make_unique<ChildProcess>(CONFLUX_HUB_BINARY, hub_args, scratch.path() / "hub2.log");
  const json::array after{"after", 2};
  // The peers reconnect with backoff; until then a perform may fail retryably.
  CHECK(poll_until([&] { return cluster.perform(0, "put", after, 2s).status == 200; }, 15s));
  const auto state = cluster.wait_for_same_state();
  REQUIRE(state);
  CHECK(*state == json::value{{"before", 1}, {"after", 2}});
}

TEST_CASE("SIGTERM stops an idle node with exit code 0") {
  DaemonCluster cluster(1);
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());
  cluster.process(0).terminate();
  const auto status = cluster.process(0).wait_for_exit(5s);
  REQUIRE_MESSAGE(status, "still running 5 s after SIGTERM");
  CHECK_MESSAGE(exit_code(status) == 0, describe_status(*status));
}

TEST_CASE("SIGTERM during a perform lets it finish, closes its connection, then exits 0") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  for (std::size_t i = 0; i < 3; ++i) {
    if (i != *leader) cluster.process(i).pause();  // no quorum: the perform cannot commit
  }
  const json::array args{json::value("k"), json::value(1)};
  auto reply =
      std::async(std::launch::async, [&] { return cluster.perform(*leader, "put", args, 8s); });
  REQUIRE(poll_until(  // the action is in the leader's log, waiting for a quorum
      [&] {
        const auto s = cluster.status(*leader);
        return s && s->last_index > s->commit;
      },
      5s));

  cluster.process(*leader).terminate();
  const auto status = cluster.process(*leader).wait_for_exit(6s);  // --perform-timeout is 2 s
  REQUIRE_MESSAGE(status, "still running 6 s after SIGTERM");
  CHECK_MESSAGE(exit_code(status) == 0, describe_status(*status));
  const auto answer = reply.get();
  CHECK_MESSAGE((answer.status == 503 || answer.status == 504), answer);
  CHECK_FALSE(answer.keep_alive);
}

TEST_CASE("a bad command line exits with code 2 and names the problem") {
  TempDir directory("conflux-daemon-flags");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--bogus"}, "unknown flag \"--bogus\""},
      {{"--listen", "nonsense"}, "--listen: \"nonsense\" is not host:port"},
      {{"--id", "n1", "--listen", "127.0.0.1:1", "--http", "nonsense"}, "--http"},
      {{"--id", "n1", "--listen", "127.0.0.1:1"}, "--http is required"},
      {{"--id", "n1", "--listen", "127.0.0.1:1", "--http", "127.0.0.1:2", "--heartbeat", "x"},
       "not a whole number"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& [args, message] = cases[i];
    const auto log = directory / ("run" + std::to_string(i) + ".log");
    ChildProcess process(node_binary(), args, log);
    const auto status = process.wait_for_exit(5s);
    REQUIRE(status);
    std::ifstream in(log);
    const std::string output{std::istreambuf_iterator<char>(in), {}};
    CAPTURE(output);
    CHECK_MESSAGE(exit_code(status) == 2, describe_status(*status));
    CHECK(output.find(message) != std::string::npos);
  }
}

}  // namespace conflux::test
