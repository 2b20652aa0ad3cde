// conflux-node membership as processes (thesis ch. 4): a cluster grows from
// three voters to five and back under writes, through a kill -9; a dead
// node is replaced by a new one with an empty disk; and every member is
// restarted in turn, leaders handing over on SIGTERM, without one perform
// failing.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "apps/daemon_cluster.hpp"
#include "apps/http_client.hpp"
#include "apps/kv_workload.hpp"
#include "apps/poll_until.hpp"
#include "apps/process.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;

/// The voters' ids in GET /members of node i, or empty.
std::vector<std::string> voters(const DaemonCluster& cluster, std::size_t i) {
  const auto reply = http_request(cluster.http_port(i), "GET", "/members");
  std::vector<std::string> ids;
  if (reply.status != 200) return ids;
  const auto members = json::parse(reply.body);  // named: the loop reads into it
  for (const auto& voter : members.at("voters").as_array()) {
    ids.emplace_back(voter.at("id").as_string());
  }
  return ids;
}

bool voters_become(const DaemonCluster& cluster, std::size_t i,
                   const std::vector<std::string>& expected) {
  return poll_until([&] { return voters(cluster, i) == expected; }, std::chrono::seconds(60));
}

/// DELETE /members/<id of node `removed`> on node `via`; it answers once
/// C_new is committed.
HttpReply remove(const DaemonCluster& cluster, std::size_t via, std::size_t removed) {
  return http_request(cluster.http_port(via), "DELETE", "/members/" + cluster.id(removed), "",
                      std::chrono::seconds(10));
}

/// As an operator would: asks again after a retryable answer (503: the
/// leader changed meanwhile) until node `removed` is no longer a voter. It
/// asks node 0, a founder that stays a member and forwards to the leader: a
/// node removed just before (or a leader about to step down) would forward
/// nowhere, and its own view of the members stops changing once it is out.
bool removed_in_the_end(const DaemonCluster& cluster, std::size_t removed) {
  return poll_until(
      [&] {
        const auto reply = remove(cluster, 0, removed);
        if (reply.status == 200) return true;
        const auto ids = voters(cluster, 0);
        return !ids.empty() && std::find(ids.begin(), ids.end(), cluster.id(removed)) == ids.end();
      },
      std::chrono::seconds(60));
}

/// Waits until node i has applied what the leader had committed when asked.
bool caught_up(const DaemonCluster& cluster, std::size_t i) {
  const auto leader = cluster.wait_for_leader();
  const auto target = leader ? cluster.status(*leader) : std::nullopt;
  if (!target) return false;
  return poll_until(
      [&] {
        const auto s = cluster.status(i);
        return s && s->applied >= target->commit;
      },
      std::chrono::seconds(30));
}

}  // namespace

TEST_CASE("3 -> 5 -> 3 voters under writes, with a kill -9 in the middle: no write is lost") {
  const auto seed = test_seed();
  MESSAGE("seed ", seed, " (replay with CONFLUX_TEST_SEED)");
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());
  KvWorkload workload(cluster.http_ports(), 3, seed);  // on the founders
  REQUIRE(workload.wait_for_progress(15, 10s));

  const auto n4 = cluster.join(0);
  REQUIRE(voters_become(cluster, 0, {"n1", "n2", "n3", "n4"}));
  // The leader dies while n5 joins: n5 asks again, of whichever leads next.
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const auto n5 = cluster.join(*leader);
  REQUIRE(poll_until([&] { return cluster.status(n5).has_value(); }, 10s));
  workload.avoid(*leader);
  cluster.process(*leader).kill();
  REQUIRE(workload.wait_for_progress(15, 10s));
  cluster.start(*leader);  // on its disk: it follows its log, not its --peer list
  REQUIRE(caught_up(cluster, *leader));
  workload.allow(*leader);
  REQUIRE(voters_become(cluster, 0, {"n1", "n2", "n3", "n4", "n5"}));
  REQUIRE(workload.wait_for_progress(15, 10s));

  for (const auto removed : {n4, n5}) REQUIRE(removed_in_the_end(cluster, removed));
  const std::vector<std::string> three{"n1", "n2", "n3"};
  REQUIRE(voters_become(cluster, 0, three));
  cluster.process(n4).kill();  // removed: their operator stops them
  cluster.process(n5).kill();
  REQUIRE(workload.wait_for_progress(15, 10s));
  workload.stop();

  const auto state = cluster.wait_for_same_state();  // on every member
  REQUIRE(state);
  check_every_write(workload, *state);
}

TEST_CASE("a dead node is replaced: removed, then a new one joins with an empty disk") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  REQUIRE(cluster.perform(*leader, "put", json::array{"k", 1}).status == 200);

  const auto dead = (*leader + 1) % 3;
  cluster.process(dead).kill();
  const auto removed = remove(cluster, *leader, dead);
  CHECK_MESSAGE(removed.status == 200, removed);
  const auto n4 = cluster.join(*leader);
  std::vector<std::string> expected{cluster.id(*leader), cluster.id(3 - *leader - dead), "n4"};
  std::sort(expected.begin(), expected.end());
  CHECK(voters_become(cluster, *leader, expected));
  CHECK(voters(cluster, n4) == expected);  // it learned the configuration from the log
  const auto written = cluster.perform(n4, "put", json::array{"k", 2});
  CHECK_MESSAGE(written.status == 200, written);
  const auto state = cluster.wait_for_same_state();
  REQUIRE(state);
  CHECK(*state == json::parse(R"({"k":2})"));
}

TEST_CASE("a rolling restart with leadership transfer fails no perform") {
  const auto seed = test_seed();
  MESSAGE("seed ", seed, " (replay with CONFLUX_TEST_SEED)");
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());
  KvWorkload workload(cluster.http_ports(), 3, seed);
  REQUIRE(workload.wait_for_progress(15, 10s));

  for (std::size_t i = 0; i < cluster.size(); ++i) {
    REQUIRE(workload.drain(i, 10s));  // its clients' requests are answered
    cluster.process(i).terminate();
    const auto exit = cluster.process(i).wait_for_exit(10s);
    REQUIRE(exit);
    CHECK_MESSAGE(exit_code(*exit) == 0, describe_status(*exit));
    REQUIRE(workload.wait_for_progress(15, 10s));
    cluster.start(i);
    REQUIRE(caught_up(cluster, i));
    workload.allow(i);
    REQUIRE(workload.wait_for_progress(15, 10s));
  }
  workload.stop();

  const auto state = cluster.wait_for_same_state();
  REQUIRE(state);
  check_every_write(workload, *state);
  for (const auto& failed : workload.unacknowledged()) {
    FAIL_CHECK("write ", failed.seq, " was not acknowledged: ", failed.detail);
  }
}

}  // namespace conflux::test
