// conflux-node membership as processes: a node started with --join asks a
// member to add it, catches up and becomes a voter; it is then removed over
// HTTP (thesis ch. 4).
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "apps/daemon_cluster.hpp"
#include "apps/http_client.hpp"
#include "apps/poll_until.hpp"
#include "apps/process.hpp"
#include "support/free_port.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;

std::string at(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

/// The voters' ids in GET /members of the node at `port`, or empty.
std::vector<std::string> voters(std::uint16_t port) {
  const auto reply = http_request(port, "GET", "/members");
  std::vector<std::string> ids;
  if (reply.status != 200) return ids;
  const auto members = json::parse(reply.body);  // named: the loop reads into it
  for (const auto& voter : members.at("voters").as_array()) {
    ids.emplace_back(voter.at("id").as_string());
  }
  return ids;
}

}  // namespace

TEST_CASE("conflux-node --join: a new node is added, catches up as a voter, and is removed") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());
  REQUIRE(cluster.perform(0, "put", json::array{"k", 1}).status == 200);

  const auto peer_port = free_port();
  const auto http_port = free_port();
  ChildProcess joiner(
      node_binary(),
      {"--id", "n4", "--listen", at(peer_port), "--http", at(http_port), "--data-dir",
       (cluster.directory() / "n4.data").string(), "--election-timeout", "150-300", "--heartbeat",
       "30", "--join", at(cluster.http_port(1))},
      cluster.directory() / "n4.log");
  const std::vector<std::string> four{"n1", "n2", "n3", "n4"};
  CHECK(poll_until([&] { return voters(cluster.http_port(0)) == four; }, std::chrono::seconds(20)));
  CHECK(poll_until([&] { return http_request(http_port, "GET", "/state").body == R"({"k":1})"; },
                   std::chrono::seconds(10)));
  CHECK(voters(http_port) == four);  // it learned the configuration from the log

  const auto removed = http_request(cluster.http_port(2), "DELETE", "/members/n4");
  CHECK_MESSAGE(removed.status == 200, removed.body);
  const std::vector<std::string> three{"n1", "n2", "n3"};
  CHECK(
      poll_until([&] { return voters(cluster.http_port(0)) == three; }, std::chrono::seconds(10)));
  CHECK(cluster.perform(1, "put", json::array{"k", 2}).status == 200);
}

}  // namespace conflux::test
