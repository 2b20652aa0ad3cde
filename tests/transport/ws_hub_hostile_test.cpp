// The WebSocket hub under hostile input: each kind of bad input closes only
// the offending connection, with a close code and reason the client sees,
// a log line and a count in stats().refused; plain HTTP gets an HTTP error.

#include <doctest/doctest.h>

#include <algorithm>

#include "transport/ws_fixture.hpp"

using namespace conflux;
using namespace conflux::test;
using websocket::close_code;

namespace {

/// a -> b and b -> a still work: the good channels are unaffected.
bool still_flows(HubCluster& c, raft::Term marker) {
  c.channel("a").send(vote("a", "b", marker));
  c.channel("b").send(vote("b", "a", marker));
  return run_until(c.io, [&] { return c.received("b", marker) && c.received("a", marker); });
}

struct Attack {
  std::string name;
  std::vector<RawFrame> frames;
  std::string reason;  // in the close frame and the log
  close_code code = close_code::policy_error;
  std::string logged = reason;  // in the log, when it differs
};

/// Runs `attack` with a raw client and checks that the hub closed it as
/// expected and kept serving a and b; returns what the client received.
std::vector<std::string> expect_refused(HubCluster& c, const Attack& attack, raft::Term marker) {
  CAPTURE(attack.name);
  const auto refused = c.hub().stats().refused;
  RawWsClient raw(c.io, c.port(), "/x", attack.frames);
  REQUIRE(run_until(c.io, [&] { return raw.ended(); }));
  CHECK(raw.upgraded());
  CHECK(raw.error() == websocket::error::closed);  // a close frame, not a dropped connection
  CHECK(raw.close_code() == attack.code);
  CHECK(raw.close_text().find(attack.reason) != std::string::npos);
  CHECK(run_until(c.io, [&] { return c.hub().stats().refused > refused; }));
  CHECK(c.hub().stats().refused == refused + 1);
  CHECK(c.logged(attack.logged));
  CHECK(run_until(c.io, [&] { return c.hub().members("x").size() == 2; }));  // offender gone
  CHECK(still_flows(c, marker));
  return raw.received();
}

HubCluster::Tweak strict = [](transport::WsHubConfig& config) {
  config.max_message_bytes = 4096;
  config.handshake_timeout = std::chrono::milliseconds(300);
};

}  // namespace

TEST_CASE("ws hub: bad input after the hello closes only that connection, with a reason") {
  HubCluster c(strict);
  c.join("x", {"a", "b"});
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  const auto packet = transport::encode(transport::Packet{vote("m2", "a", 1)});
  const auto spoofed = transport::encode(transport::Packet{vote("a", "b", 999)});
  const std::string oversize = '"' + std::string(5000, 'x') + '"';

  expect_refused(c,
                 {.name = "non-JSON text",
                  .frames = {{hub_hello("m1")}, {"this is not JSON"}},
                  .reason = "a message is not JSON"},
                 101);
  expect_refused(c,
                 {.name = "a binary frame",
                  .frames = {{hub_hello("m2")}, {packet, false}},
                  .reason = "binary frames are not accepted"},
                 102);
  expect_refused(c,
                 {.name = "no string \"to\"",
                  .frames = {{hub_hello("m3")}, {R"({"type":"vote","from":"m3","to":7})"}},
                  .reason = "string \"from\" and \"to\""},
                 103);
  // Beast fails the connection itself, with the code and no reason.
  expect_refused(c,
                 {.name = "an oversize message",
                  .frames = {{hub_hello("m4")}, {oversize}},
                  .reason = "",
                  .code = close_code::too_big,
                  .logged = "message over 4096 bytes"},
                 104);
  expect_refused(c,
                 {.name = "a spoofed sender",
                  .frames = {{hub_hello("x")}, {spoofed}},
                  .reason = "spoofed sender: \"a\" is not \"x\""},
                 105);
  CHECK_FALSE(c.received("b", 999));
  CHECK(c.failures.empty());
}

TEST_CASE("ws hub: a bad or missing hello is refused with a reason") {
  HubCluster c(strict);
  c.join("x", {"a", "b"});
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  const auto packet = transport::encode(transport::Packet{vote("m", "a", 1)});

  expect_refused(
      c, {.name = "a packet instead of the hello", .frames = {{packet}}, .reason = "bad hello"},
      201);
  const auto refusal = expect_refused(c,
                                      {.name = "a cluster other than the path's",
                                       .frames = {{hub_hello("m", "y")}},
                                       .reason = "cluster \"y\" is not \"x\""},
                                      202);
  REQUIRE(refusal.size() == 1);  // the refused answer, then the close
  const auto reply = transport::decode_hello_reply(refusal[0]);
  REQUIRE(reply.ok());
  CHECK_FALSE(reply.value().accepted);
  CHECK(reply.value().reason == "cluster \"y\" is not \"x\"");
  expect_refused(c,
                 {.name = "no hello within the handshake timeout",
                  .frames = {},
                  .reason = "no hello within the handshake timeout"},
                 203);
}

TEST_CASE("ws hub: a duplicate node id is refused and the first holder keeps working") {
  HubCluster c(strict);
  c.join("x", {"a", "b"});
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));

  const auto refusal = expect_refused(
      c, {.name = "a duplicate id", .frames = {{hub_hello("a")}}, .reason = "duplicate node id"},
      301);
  REQUIRE(refusal.size() == 1);
  const auto reply = transport::decode_hello_reply(refusal[0]);
  REQUIRE(reply.ok());
  CHECK(reply.value().reason == "duplicate node id \"a\"");
  CHECK(c.status("a", "b").connected);
  CHECK(c.status("b", "a").connected);
}

TEST_CASE("ws hub: of two hellos with one id at the same time, exactly one is welcomed") {
  HubCluster c(strict);
  RawWsClient first(c.io, c.port(), "/x", {});
  RawWsClient second(c.io, c.port(), "/x", {});
  REQUIRE(run_until(c.io, [&] { return first.upgraded() && second.upgraded(); }));
  first.send({hub_hello("twin")});
  second.send({hub_hello("twin")});
  REQUIRE(run_until(c.io, [&] { return !first.received().empty() && !second.received().empty(); }));

  const auto welcomed = [](const RawWsClient& raw) {
    const auto reply = transport::decode_hello_reply(raw.received().front());
    return reply.ok() && reply.value().accepted;
  };
  CHECK(welcomed(first) != welcomed(second));
  CHECK(c.hub().stats().refused == 1);
  CHECK(c.hub().members("x") == std::vector<raft::NodeId>{"twin"});
}

TEST_CASE("ws hub: plain HTTP gets 426, an upgrade to a path that is not /<cluster> gets 404") {
  HubCluster c;
  CHECK(http_status(c.io, c.port(), "/x", /*upgrade=*/false) == 426);
  CHECK(http_status(c.io, c.port(), "/", /*upgrade=*/true) == 404);
  CHECK(http_status(c.io, c.port(), "/a/b", /*upgrade=*/true) == 404);
  CHECK(http_status(c.io, c.port(), "/x", /*upgrade=*/true) == 101);  // the control
}

TEST_CASE(
    "ws channel: a relayed message that does not decode, or is not for this node, is dropped and "
    "counted against its sender as on the TCP mesh; the hub link stays up") {
  HubCluster c;
  c.join("x", "b", {"a", "b", "m"});
  c.join("x", "a", {"a", "b"});
  REQUIRE(run_until(c.io, [&] { return c.status("b", "a").connected; }));
  const std::string undecodable = R"({"type":"vote","from":"m","to":"b","term":"seven"})";
  // A flood: every message is counted, but the log takes at most 10 a second.
  constexpr std::size_t flood = 100;
  std::vector<RawFrame> sent{{hub_hello("m")}};
  sent.insert(sent.end(), flood, RawFrame{undecodable});
  RawWsClient raw(c.io, c.port(), "/x", sent);
  REQUIRE(run_until(c.io, [&] {
    return c.status("b", "m").dropped_for(transport::DropReason::decode_error) == flood;
  }));
  CHECK(c.logged("dropped a message on the hub link: from m: wrong_type: field \"term\""));
  const auto lines = std::count_if(c.logs.begin(), c.logs.end(), [](const std::string& line) {
    return line.find("dropped a message") != std::string::npos;
  });
  CHECK(lines < static_cast<std::ptrdiff_t>(flood) / 2);
  CHECK(c.status("b", "a").connected);
  CHECK(still_flows(c, 201));
  CHECK_FALSE(raw.ended());  // the hub relayed it: JSON with the right sender
}

TEST_CASE("ws channel: a member list that names a sender is a peer's forgery, not the hub's") {
  HubCluster c;
  c.join("x", "b", {"a", "b", "m"});
  c.join("x", "a", {"a", "b"});
  REQUIRE(run_until(c.io, [&] { return c.status("b", "a").connected; }));
  const std::string forged = R"({"type":"members","ids":[],"from":"m","to":"b"})";
  RawWsClient raw(c.io, c.port(), "/x", {{hub_hello("m")}, {forged}});
  REQUIRE(run_until(c.io, [&] {
    return c.status("b", "m").dropped_for(transport::DropReason::decode_error) == 1;
  }));
  CHECK(c.status("b", "a").connected);  // b still believes the hub: a is there
}

// Connections that never say hello each hold the hub's buffers for up to a
// handshake timeout: past max_unproven_connections, more are closed at
// once and counted, and the members keep talking.
TEST_CASE("ws hub: connections still unproven are capped; more are closed at once") {
  HubCluster c([](transport::WsHubConfig& config) {
    config.max_unproven_connections = 2;
    config.handshake_timeout = std::chrono::seconds(4);  // outlasts the checks
  });
  c.join("x", {"a", "b"});
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  std::vector<std::unique_ptr<RawPeer>> silent;
  for (int i = 0; i < 2; ++i) {
    silent.push_back(std::make_unique<RawPeer>(c.io, c.port()));
    REQUIRE(run_until(c.io, [&] { return silent.back()->connected(); }));
  }
  RawPeer one_more(c.io, c.port());
  CHECK(run_until(c.io, [&] { return one_more.closed(); }));
  CHECK(c.hub().stats().busy == 1);
  CHECK(c.logged("connections are still proving who they are"));
  CHECK(std::none_of(silent.begin(), silent.end(), [](const auto& p) { return p->closed(); }));
  CHECK(still_flows(c, 301));
  // Once the silent ones time out, a newcomer is let in.
  CHECK(run_until(c.io, [&] {
    return std::all_of(silent.begin(), silent.end(), [](const auto& p) { return p->closed(); });
  }));
  c.join("x", "m", {"a", "b", "m"});
  CHECK(run_until(c.io, [&] { return c.hub().members("x").size() == 3; }));
  CHECK(c.hub().stats().busy == 1);
}
