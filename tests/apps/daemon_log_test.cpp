// GET /log against a running node: committed entries after an index,
// limits, long polling woken by a commit, compaction, the Conflux-Applied
// header of GET /state, and a stop that does not wait for the watchers.
#include <doctest/doctest.h>

#include <future>

#include "apps/daemon_cluster.hpp"
#include "apps/daemon_replies.hpp"
#include "apps/poll_until.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;

HttpReply get(const DaemonCluster& cluster, const std::string& target,
              std::chrono::milliseconds timeout = 5s) {
  return http_request(cluster.http_port(0), "GET", target, "", timeout);
}

void put(const DaemonCluster& cluster, const std::string& key);

/// The commit index once nothing more is about to commit: a perform has
/// completed, so the new leader's no-op is committed too.
std::uint64_t settled_commit(const DaemonCluster& cluster) {
  put(cluster, "settled");
  const auto status = cluster.status(0);
  REQUIRE(status);
  return status->commit;
}

std::uint64_t commit_of(const DaemonCluster& cluster) {
  const auto status = cluster.status(0);
  REQUIRE(status);
  return status->commit;
}

void put(const DaemonCluster& cluster, const std::string& key) {
  const json::array args{json::value(key), json::value("v")};
  REQUIRE(cluster.perform(0, "put", args).status == 200);
}

}  // namespace

TEST_CASE("GET /log: the committed entries after an index, in order, at most `limit`") {
  DaemonCluster cluster(1);
  REQUIRE(cluster.wait_for_leader());
  for (const auto* key : {"a", "b", "c"}) put(cluster, key);
  const auto all = body_of(get(cluster, "/log?after=0"));
  const auto& entries = all.at("entries").as_array();
  REQUIRE(entries.size() == commit_of(cluster));
  std::uint64_t expected = 1;
  std::vector<std::string> keys;
  for (const auto& entry : entries) {
    CHECK(entry.at("index").to_number<std::uint64_t>() == expected++);
    if (const auto& action = entry.at("action"); action.is_object())
      keys.emplace_back(action.at("k").as_string());
  }
  CHECK(keys == std::vector<std::string>{"a", "b", "c"});
  CHECK(entries.front().as_object().contains("configuration"));

  const auto one = body_of(get(cluster, "/log?after=1&limit=1"));
  REQUIRE(one.at("entries").as_array().size() == 1);
  CHECK(one.at("entries").at(0).at("index") == 2);
  const auto past = std::to_string(commit_of(cluster));
  CHECK(body_of(get(cluster, "/log?after=" + past)).at("entries").as_array().empty());
  CHECK(body_of(get(cluster, "/log?after=9007199254740991")).at("entries").as_array().empty());

  for (const auto* bad : {"after=-1", "after=9007199254740992", "limit=0", "limit=10001",
                          "wait_ms=60001", "since=3"}) {
    const auto reply = get(cluster, std::string("/log?") + bad);
    CHECK_MESSAGE(reply.status == 400, bad);
    CHECK(field_of(reply, "code") == "bad_query");
  }
  CHECK(http_request(cluster.http_port(0), "POST", "/log").status == 405);
}

TEST_CASE("GET /log?wait_ms: answered by the next commit, or empty when the wait ends") {
  DaemonCluster cluster(1);
  REQUIRE(cluster.wait_for_leader());
  const auto after = std::to_string(settled_commit(cluster));
  CHECK(body_of(get(cluster, "/log?wait_ms=100&after=" + after)).at("entries").as_array().empty());
  // Waits up to a minute unless a commit wakes it: the client gives up at 20 s.
  auto waiting = std::async(std::launch::async,
                            [&] { return get(cluster, "/log?wait_ms=60000&after=" + after, 20s); });
  put(cluster, "woken");
  const auto reply = waiting.get();
  REQUIRE(reply.status == 200);
  const auto entries = body_of(reply).at("entries").as_array();
  REQUIRE_FALSE(entries.empty());
  CHECK(entries.back().at("action").at("k") == "woken");
}

TEST_CASE("GET /log after a compaction: 410 compacted, and GET /state says where to resume") {
  DaemonCluster cluster(1, {"--snapshot-trailing", "0"});
  REQUIRE(cluster.wait_for_leader());
  for (const auto* key : {"a", "b", "c"}) put(cluster, key);
  REQUIRE(http_request(cluster.http_port(0), "POST", "/admin/snapshot").status == 202);
  REQUIRE(poll_until([&] { return body_of(get(cluster, "/status")).at("first_index") != 1; }, 5s));
  const auto gone = get(cluster, "/log?after=0");
  CHECK(gone.status == 410);
  CHECK(field_of(gone, "code") == "compacted");

  const auto state = get(cluster, "/state");
  const auto applied = state.header("conflux-applied");
  REQUIRE_FALSE(applied.empty());
  CHECK(std::to_string(commit_of(cluster)) == applied);
  put(cluster, "d");
  const auto next = body_of(get(cluster, "/log?after=" + applied)).at("entries").as_array();
  REQUIRE_FALSE(next.empty());
  CHECK(next.back().at("action").at("k") == "d");
  CHECK(get(cluster, "/state?consistency=linearizable").header("conflux-applied").empty());
}

TEST_CASE("SIGTERM answers the GET /log waits at once: the node stops without waiting them out") {
  DaemonCluster cluster(1);
  REQUIRE(cluster.wait_for_leader());
  const auto after = std::to_string(settled_commit(cluster));
  auto waiting = std::async(std::launch::async,
                            [&] { return get(cluster, "/log?wait_ms=60000&after=" + after, 30s); });
  // The watch is in: the node counts it among its open connections.
  const auto open = [&] {
    return scrape(cluster, 0)
        .at("conflux_http_connections_open")
        .value("conflux_http_connections_open");
  };
  REQUIRE(poll_until([&] { return open() >= 2; }, 5s));  // the scrape's own, and the watch
  cluster.process(0).terminate();
  CHECK(cluster.process(0).wait_for_exit(10s));
  CHECK(waiting.get().status == 200);
}

}  // namespace conflux::test
