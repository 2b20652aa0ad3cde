// The Redis channel (transport/redis_channel.hpp) on a real redis-server of
// the test's own: its URL, Redis lost mid-run and absent at start, strangers
// publishing on a node's channel, and two clusters sharing one Redis. The
// API cases that run over every channel are in node_test.cpp.
#include <doctest/doctest.h>

#include <conflux/transport/redis_url.hpp>

#include "lib/cluster_fixture.hpp"

using namespace conflux;
using namespace conflux::test;
using boost::json::array;
using boost::json::value;

namespace {

Result perform_on(NodeCluster& c, std::size_t node, const char* item) {
  Result result;
  c.node(node).perform("append", {item}, std::chrono::seconds(10), result.handler());
  run_until(
      c.io, [&] { return result.done; }, std::chrono::seconds(12));
  return result;
}

/// Every line the nodes log (they all run on the test's one thread).
struct LogLines {
  std::vector<std::string> lines;
  LogSink sink() {
    return [this](LogLevel, std::string_view line) { lines.emplace_back(line); };
  }
  bool said(std::string_view text) const {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
      return line.find(text) != std::string::npos;
    });
  }
};

}  // namespace

TEST_CASE("redis URL: host, port, database and credentials; each mistake named") {
  using transport::parse_redis_url;
  auto url = parse_redis_url("redis://cache.local");
  CHECK(url.host == "cache.local");
  CHECK(url.port == "6379");
  CHECK(url.db == 0);
  url = parse_redis_url("redis://app:s%40cret@[::1]:7000/3");
  CHECK(url.host == "::1");
  CHECK(url.port == "7000");
  CHECK(url.user == "app");
  CHECK(url.password == "s@cret");
  CHECK(url.db == 3);
  url = parse_redis_url("redis://:pw@h:1/");
  CHECK(url.user.empty());
  CHECK(url.password == "pw");
  const std::pair<const char*, const char*> bad[] = {
      {"http://h", "must start with redis://"},
      {"redis://", "the host is missing"},
      {"redis://h:0", "the port must be a number from 1 to 65535"},
      {"redis://h:x", "the port must be a number from 1 to 65535"},
      {"redis://h/x", "the database after / must be a number"},
      {"redis://user@h", "credentials must be user:password or :password"},
      {"redis://u:@h", "the password is empty"},
      {"redis://u:%zz@h", "is not followed by two hex digits"},
  };
  for (const auto& [text, why] : bad) {
    CAPTURE(text);
    try {
      parse_redis_url(text);
      FAIL("accepted");
    } catch (const std::invalid_argument& error) {
      CHECK(std::string(error.what()).find(why) != std::string::npos);
    }
  }
}

TEST_CASE("redis: killed and restarted mid-run, the cluster recovers and loses no action") {
  NodeCluster c(3, Wire::redis);
  REQUIRE(c.wait_for_leader());
  REQUIRE_FALSE(perform_on(c, 0, "before").error);
  const auto links = c.node(0).status().links;
  REQUIRE(links.size() == 2);
  CHECK(links[0].name == "redis_subscriber");
  CHECK(links[1].name == "redis_publisher");
  CHECK((links[0].up && links[1].up && links[0].connects == 1));
  c.redis->stop();
  Result during;  // may fail (no leader) or wait for Redis: either is honest
  c.node(1).perform("append", {"during"}, std::chrono::seconds(30), during.handler());
  CHECK(run_until(
      c.io, [&] { return !c.node(0).status().links[0].up; }, std::chrono::seconds(20)));
  CHECK(c.node(0).status().links[0].last_error.find("lost the subscription") != std::string::npos);
  c.redis->start();
  REQUIRE(run_until(
      c.io, [&] { return during.done; }, std::chrono::seconds(35)));
  REQUIRE_FALSE(perform_on(c, 2, "after").error);
  CHECK(c.node(0).status().links[0].connects >= 2);
  const auto expected =
      during.error ? array{"before", "after"} : array{"before", "during", "after"};
  CHECK(run_until(
      c.io, [&] { return c.converged(expected); }, std::chrono::seconds(10)));
}

TEST_CASE("redis: down at start, the nodes wait, saying why, and form the cluster once it is up") {
  LogLines log;
  NodeCluster c(3, Wire::redis, false, [&](Options& options) { options.log = log.sink(); });
  c.redis->stop();
  CHECK_FALSE(c.wait_for_leader(std::chrono::seconds(1)));
  c.redis->start();
  CHECK(c.wait_for_leader(std::chrono::seconds(10)));
  CHECK(std::any_of(log.lines.begin(), log.lines.end(), [](const std::string& line) {
    return line.find("unreachable") != std::string::npos &&
           line.find("retrying") != std::string::npos;
  }));
}

TEST_CASE("redis: garbage or a stranger on a node's channel is dropped, named, and it serves on") {
  LogLines log;
  NodeCluster c(3, Wire::redis, false, [&](Options& options) { options.log = log.sink(); });
  REQUIRE(c.wait_for_leader());
  const auto channel = transport::redis_channel_name("test", "n1");
  c.redis->publish(channel, "not json at all");
  c.redis->publish(channel,
                   R"({"type":"append","from":"mallory","to":"n1","term":99,"prev_log_index":0,)"
                   R"("prev_log_term":0,"entries":[],"leader_commit":0,"round":0})");
  CHECK(run_until(
      c.io, [&] { return log.said("\"mallory\" is not a peer"); }, std::chrono::seconds(5)));
  CHECK(log.said("dropped a message on conflux:test:n1: invalid_json"));
  CHECK_FALSE(perform_on(c, 0, "still serving").error);
}

TEST_CASE("redis: two clusters with the same node ids on one Redis never see each other") {
  NodeCluster first(3, Wire::redis);
  REQUIRE(first.wait_for_leader());
  REQUIRE_FALSE(perform_on(first, 0, "first").error);
  NodeCluster second(3, Wire::in_process, false, [&](Options& options) {
    options.channel = RedisChannelOptions{first.redis->url(), "other"};
  });
  REQUIRE(second.wait_for_leader());
  REQUIRE_FALSE(perform_on(second, 0, "second").error);
  // Each cluster converges on its own action alone (a follower may apply it
  // a little after the node that performed it).
  CHECK(run_until(
      first.io, [&] { return first.converged(array{"first"}); }, std::chrono::seconds(5)));
  CHECK(run_until(
      second.io, [&] { return second.converged(array{"second"}); }, std::chrono::seconds(5)));
}
