// conflux-node against a hostile peer and hostile HTTP clients, on real
// processes: a term at the wire's maximum, arguments that cannot cross the
// wire, reads that must not be actions, and connection exhaustion. After
// each, the cluster keeps its leader and serves.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/frame.hpp>
#include <map>
#include <memory>
#include <vector>

#include "apps/daemon_cluster.hpp"
#include "apps/daemon_replies.hpp"
#include "apps/poll_until.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;

/// A sample of node i's /metrics, or -1 when absent.
double metric(const DaemonCluster& cluster, std::size_t i, const std::string& family,
              const std::map<std::string, std::string>& labels) {
  const auto families = scrape(cluster, i);
  const auto found = families.find(family);
  if (found == families.end()) return -1;
  try {
    return found->second.value(family, labels);
  } catch (const std::out_of_range&) {
    return -1;
  }
}

/// A connection to node `to`'s peer port that passed the handshake as `from`.
std::unique_ptr<HttpConnection> impersonate(const DaemonCluster& cluster, std::size_t to,
                                            const std::string& from) {
  auto raw = std::make_unique<HttpConnection>(cluster.peer_port(to), 2s);
  std::string hello;
  transport::append_frame(
      hello, transport::encode(
                 transport::Hello{transport::protocol_version, "conflux", from, cluster.id(to)}));
  REQUIRE(raw->send(hello));
  return raw;
}

}  // namespace

TEST_CASE(
    "a peer's messages at unusable terms are refused over TCP, counted, and the cluster keeps its "
    "leader") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const auto term = cluster.status(*leader)->term;
  const auto follower = (*leader + 1) % 3;
  auto raw = impersonate(cluster, follower, cluster.id(*leader));
  std::string frames;
  for (const auto hostile :
       {raft::max_wire_integer, raft::max_term, term + raft::max_term_jump + 1}) {
    const raft::Message heartbeat{cluster.id(*leader), cluster.id(follower), hostile,
                                  raft::AppendRequest{}};
    transport::append_frame(frames, transport::encode(heartbeat));
  }
  REQUIRE(raw->send(frames));
  CHECK(poll_until(
      [&] {
        return metric(cluster, follower, "conflux_refused_messages_total",
                      {{"reason", "term_too_large"}}) == 3;
      },
      5s));
  CHECK(cluster.wait_for_leader() == leader);
  for (std::size_t i = 0; i < 3; ++i) CHECK(cluster.status(i)->term == term);
  const auto reply = cluster.perform(follower, "put", {"after", 1});
  CHECK_MESSAGE(reply.status == 200, reply);
}

TEST_CASE(
    "a non-finite or too wide argument is refused alike on a follower and on the leader, and no "
    "peer link resets") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const auto follower = (*leader + 1) % 3;
  for (const auto node : {follower, *leader}) {
    const auto reply =
        http_request(cluster.http_port(node), "POST", "/perform/put", R"(["k", 1e400])");
    CHECK_MESSAGE(reply.status == 400, reply);
    CHECK(field_of(reply, "code") == "bad_arguments");
    CHECK(field_of(reply, "error") == "argument 2 is not a finite number");
  }
  // An integer beyond 64 bits would silently become a rounded double.
  const auto wide = http_request(cluster.http_port(follower), "POST", "/perform/put",
                                 R"(["k", 123456789012345678901234567890])");
  CHECK_MESSAGE(wide.status == 400, wide);
  CHECK(field_of(wide, "error") ==
        "the integer 123456789012345678901234567890 does not fit in 64 bits; send it as a string");
  // A peer that sends such arguments anyway gets an answer, not a closed link.
  auto raw = impersonate(cluster, *leader, cluster.id(follower));
  std::string frame;
  transport::append_frame(frame, R"({"type":"perform","from":")" + cluster.id(follower) +
                                     R"(","to":")" + cluster.id(*leader) +
                                     R"(","id":7,"method":"put","args":["k",Infinity]})");
  REQUIRE(raw->send(frame));
  CHECK_FALSE(raw->closed_by_server());  // waits its 2 s timeout
  CHECK(metric(cluster, *leader, "conflux_peer_dropped_frames_total",
               {{"peer", cluster.id(follower)}, {"reason", "decode_error"}}) == 0);
  const auto reply = cluster.perform(follower, "put", {"k", 1.5});
  CHECK_MESSAGE(reply.status == 200, reply);
}

TEST_CASE(
    "kv get is a query: served from the node's state, it appends nothing and says how fresh it "
    "is") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  REQUIRE(cluster.perform(*leader, "put", {"k", "v"}).status == 200);
  REQUIRE(cluster.wait_for_same_state());
  const auto before = cluster.status(*leader)->last_index;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto reply = http_request(cluster.http_port(i), "POST", "/query/get", R"(["k"])");
    REQUIRE_MESSAGE(reply.status == 200, reply);
    const auto body = body_of(reply);
    CHECK(body.at("result") == "v");
    CHECK(body.at("applied").to_number<std::uint64_t>() >= before);
    CHECK(body.at("role") == (i == *leader ? "leader" : "follower"));
    CHECK(body.at("leader") == json::value(cluster.id(*leader)));
  }
  CHECK(cluster.status(*leader)->last_index == before);
  const auto as_action = cluster.perform(*leader, "get", {"k"});
  CHECK(as_action.status == 404);
  CHECK(field_of(as_action, "error") == "get is not a registered method");
}

TEST_CASE(
    "HTTP: slow headers are cut at the header deadline, one address cannot hold every "
    "connection, and refusals are counted by reason") {
  DaemonCluster cluster(1, {"--http-header-timeout", "300", "--http-max-per-address", "8"});
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());
  const auto port = cluster.http_port(0);
  // Eight slowloris connections, each with one header line sent.
  std::vector<std::unique_ptr<HttpConnection>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<HttpConnection>(port, 3s));
    REQUIRE(slow.back()->send("POST /perform/put HTTP/1.1\r\nHost: x\r\n"));
  }
  // The ninth from the same address is closed at once.
  HttpConnection ninth(port, 3s);
  CHECK(ninth.closed_by_server());
  // Within the header deadline each slow one gets 408 and its slot back.
  for (auto& connection : slow) {
    const auto reply = connection->receive();
    CHECK_MESSAGE(reply.status == 408, reply);
    CHECK(field_of(reply, "error") == "the request headers did not arrive within 300 ms");
  }
  CHECK(poll_until([&] { return http_request(port, "GET", "/status", "", 1s).status == 200; }, 5s));
  CHECK(metric(cluster, 0, "conflux_http_refused_total", {{"reason", "address_limit"}}) >= 1);
  CHECK(metric(cluster, 0, "conflux_http_refused_total", {{"reason", "header_timeout"}}) >= 8);
}

}  // namespace conflux::test
