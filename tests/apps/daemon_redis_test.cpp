// conflux-node over a real redis-server (--channel redis), as processes: a
// cluster fails over under writes and loses none, /status and /metrics show
// the Redis links, and a subscriber too slow for Redis's output-buffer limit
// is disconnected by Redis, reconnects and catches up.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "apps/daemon_cluster.hpp"
#include "apps/kv_workload.hpp"
#include "apps/poll_until.hpp"
#include "apps/prometheus_text.hpp"
#include "support/redis_server.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;

std::vector<std::string> over(const RedisServer& redis) {
  return {"--channel", "redis", "--redis", redis.url(), "--cluster", "procs"};
}

/// Node i's redis_subscriber link in GET /status: {up, connects, last_error}.
json::object subscriber_link(const DaemonCluster& cluster, std::size_t i) {
  const auto reply = http_request(cluster.http_port(i), "GET", "/status");
  if (reply.status != 200) return {};
  const auto status = json::parse(reply.body);  // named: the loop reads into it
  for (const auto& link : status.at("links").as_array()) {
    if (link.at("name") == "redis_subscriber") return link.as_object();
  }
  return {};
}

bool caught_up(const DaemonCluster& cluster, std::size_t i, std::size_t leader) {
  const auto target = cluster.status(leader);
  return target && poll_until(
                       [&] {
                         const auto s = cluster.status(i);
                         return s && s->applied >= target->commit;
                       },
                       30s);
}

}  // namespace

TEST_CASE("over Redis: a SIGKILLed leader is replaced under writes, and no write is lost") {
  const auto seed = test_seed();
  MESSAGE("seed ", seed, " (replay with CONFLUX_TEST_SEED)");
  RedisServer redis;
  DaemonCluster cluster(3, over(redis));
  INFO(cluster.logs());
  const auto old_leader = cluster.wait_for_leader();
  REQUIRE(old_leader);
  KvWorkload workload(cluster.http_ports(), 3, seed);
  REQUIRE(workload.wait_for_progress(15, 10s));

  const auto link = subscriber_link(cluster, *old_leader);
  CHECK(link.at("up") == true);
  const json::string endpoint("127.0.0.1:" + std::to_string(redis.port()));
  CHECK(link.at("endpoint").as_string() == endpoint);
  const auto metrics = http_request(cluster.http_port(0), "GET", "/metrics");
  const auto families = parse_prometheus_text(metrics.body);
  CHECK(families.at("conflux_relay_link_up")
            .value("conflux_relay_link_up", {{"link", "redis_publisher"}}) == 1);

  workload.avoid(*old_leader);
  cluster.process(*old_leader).kill();
  const auto new_leader = cluster.wait_for_leader();
  REQUIRE(new_leader);
  CHECK(workload.wait_for_progress(30, 10s));
  cluster.start(*old_leader);
  REQUIRE(caught_up(cluster, *old_leader, *new_leader));
  workload.stop();
  const auto state = cluster.wait_for_same_state();
  REQUIRE(state);
  check_every_write(workload, *state);
}

TEST_CASE(
    "over Redis: a subscriber over Redis's output-buffer limit is cut off, "
    "reconnects and catches up") {
  // Raft sends a follower that does not answer little more than heartbeats,
  // far less than the kernel's socket buffers hold. So while the node is
  // paused, a noisy client floods its channel too: the flood piles up in
  // Redis past the pubsub limit, and Redis cuts the subscriber off. The
  // node's window (--redis-in-flight 64 KiB) keeps its catch-up under the
  // limit afterwards.
  RedisServer redis(true, {"--client-output-buffer-limit", "pubsub 1mb 256kb 1"});
  auto flags = over(redis);
  flags.insert(flags.end(), {"--redis-in-flight", "65536"});
  DaemonCluster cluster(3, flags);
  INFO(cluster.logs());
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const auto slow = (*leader + 1) % 3;
  cluster.process(slow).pause();
  const std::string value(1024, 'v');
  constexpr int written = 200;
  for (int i = 0; i < written; ++i) {
    const json::array args{"k" + std::to_string(i), value};
    REQUIRE(cluster.perform(*leader, "put", args).status == 200);
  }
  const std::string noise(64 * 1024, 'x');
  const auto channel = "conflux:procs:" + cluster.id(slow);
  CHECK(poll_until(
      [&] {
        redis.publish(channel, noise);
        return redis.logged("for overcoming of output buffer limits");
      },
      20s));
  cluster.process(slow).resume();

  REQUIRE(caught_up(cluster, slow, *leader));
  const auto link = subscriber_link(cluster, slow);
  CHECK(link.at("up") == true);
  CHECK(link.at("connects").to_number<int>() >= 2);
  MESSAGE("the node's last link error: ", link.at("last_error"));
  const auto state = cluster.wait_for_same_state();
  REQUIRE(state);
  CHECK(state->as_object().size() == written);
}

}  // namespace conflux::test
