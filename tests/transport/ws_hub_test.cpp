// The WebSocket hub with WsChannels on loopback: routing by node id,
// clusters isolated by path, a slow consumer, a hub restart, member lists,
// and a graceful close. Hostile input: ws_hub_hostile_test.cpp.

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "transport/ws_fixture.hpp"

using namespace conflux;
using namespace conflux::test;
using transport::DropReason;

namespace {

const std::vector<raft::NodeId> abc{"a", "b", "c"};

std::set<raft::NodeId> senders(const std::vector<raft::Message>& inbox) {
  std::set<raft::NodeId> from;
  for (const auto& m : inbox) from.insert(m.from);
  return from;
}

}  // namespace

TEST_CASE("ws hub: three channels exchange messages pairwise and with themselves") {
  HubCluster c;
  c.join("x", abc);
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  CHECK(c.hub().members("x") == abc);

  for (const auto& from : abc) {
    for (const auto& to : abc) c.channel(from).send(vote(from, to, 7));  // self included
  }
  REQUIRE(run_until(c.io, [&] {
    for (const auto& id : abc) {
      if (c.inbox(id).size() != abc.size()) return false;
    }
    return true;
  }));
  for (const auto& id : abc) {
    CAPTURE(id);
    CHECK(senders(c.inbox(id)) == std::set<raft::NodeId>(abc.begin(), abc.end()));
    for (const auto& m : c.inbox(id)) CHECK(m.to == id);
  }
  CHECK(c.status("a", "b").frames_out == 1);
  CHECK(c.status("b", "a").frames_in == 1);
  CHECK(c.hub().stats().routed >= 6);  // the 6 messages between distinct nodes, plus member lists
}

TEST_CASE("ws hub: with a token, only hellos carrying it join; the others are refused by reason") {
  const std::string token = "the-cluster-token-0123";
  HubCluster c([&](transport::WsHubConfig& config) { config.token = token; });
  c.join("x", "a", abc, token);
  c.join("x", "b", abc, token);
  c.join("x", "c", abc);                               // none
  c.join("x", "d", {"a", "d"}, "a-wrong-token-0123");  // a wrong one
  REQUIRE(run_until(c.io, [&] { return c.hub().stats().unauthorized >= 2; }));
  CHECK(c.logged("no token: this hub needs the cluster's token"));
  CHECK(c.logged("a wrong token"));
  CHECK(run_until(c.io, [&] {
    const auto links = c.channel("c").relay_links();
    return !links.empty() && links.front().last_error.find("no token") != std::string::npos;
  }));
  c.channel("a").send(vote("a", "b", 9));
  REQUIRE(run_until(c.io, [&] { return c.received("b", 9); }));
  CHECK(c.hub().members("x") == std::vector<raft::NodeId>{"a", "b"});
}

TEST_CASE(
    "ws hub: a flood of refused hellos is all counted, and logged at most 10 lines a second") {
  HubCluster c([](transport::WsHubConfig& config) { config.token = "the-cluster-token-0123"; });
  std::vector<std::unique_ptr<RawWsClient>> strangers;
  for (int i = 0; i < 30; ++i) {
    strangers.push_back(std::make_unique<RawWsClient>(c.io, c.port(), "/x",
                                                      std::vector<RawFrame>{{hub_hello("s")}}));
  }
  REQUIRE(run_until(c.io, [&] { return c.hub().stats().unauthorized == 30; }));
  const auto refused = std::count_if(c.logs.begin(), c.logs.end(), [](const std::string& line) {
    return line.find("refused") != std::string::npos;
  });
  CHECK(refused >= 1);
  CHECK(refused < 30);  // 10 a second, and the 30 come within a second or two
}

TEST_CASE("ws hub: a message reaches only its addressee, in order") {
  HubCluster c;
  c.join("x", abc);
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  const auto c_heard_from_a = c.status("c", "a").bytes_in;

  for (raft::Term t = 1; t <= 20; ++t) c.channel("a").send(vote("a", "b", t));
  c.channel("a").send(vote("a", "c", 100));  // queued behind the others at the hub
  REQUIRE(run_until(c.io, [&] { return c.inbox("b").size() == 20 && c.received("c", 100); }));

  for (raft::Term t = 1; t <= 20; ++t) CHECK(c.inbox("b")[t - 1].term == t);
  CHECK(c.inbox("c").size() == 1);
  const auto c_from_a = c.status("c", "a");
  CHECK(c_from_a.dropped_for(DropReason::misrouted) == 0);
  CHECK(c_from_a.bytes_in - c_heard_from_a ==
        transport::encode(transport::Packet{vote("a", "c", 100)}).size());
}

TEST_CASE("ws hub: two clusters with the same ids on one hub are isolated") {
  HubCluster c;
  c.join("x", {"a", "b"});
  c.join("y", {"a", "b"});
  REQUIRE(run_until(c.io, [&] { return c.all_connected("x") && c.all_connected("y"); }));
  CHECK(c.hub().members("x") == std::vector<raft::NodeId>{"a", "b"});
  CHECK(c.hub().members("y") == std::vector<raft::NodeId>{"a", "b"});

  for (raft::Term t = 1; t <= 5; ++t) {
    c.channel("a", "x").send(vote("a", "b", t));
    c.channel("a", "y").send(vote("a", "b", 100 + t));
  }
  c.channel("b", "y").send(vote("b", "a", 200));
  REQUIRE(run_until(c.io, [&] {
    return c.inbox("b", "x").size() == 5 && c.inbox("b", "y").size() == 5 &&
           c.received("a", 200, "y");
  }));
  // A sentinel through each cluster: anything crossing over would be in by now.
  c.channel("a", "x").send(vote("a", "b", 50));
  c.channel("a", "y").send(vote("a", "b", 150));
  REQUIRE(run_until(c.io, [&] { return c.received("b", 50, "x") && c.received("b", 150, "y"); }));

  for (const auto& m : c.inbox("b", "x")) CHECK(m.term < 100);
  for (const auto& m : c.inbox("b", "y")) CHECK(m.term > 100);
  CHECK(c.inbox("b", "x").size() == 6);
  CHECK(c.inbox("b", "y").size() == 6);
  CHECK(c.inbox("a", "x").empty());
  CHECK(c.inbox("a", "y").size() == 1);
}

TEST_CASE("ws hub: a consumer that never reads loses its own messages and delays nobody") {
  HubCluster c([](transport::WsHubConfig& config) { config.queue_max_messages = 16; });
  const std::vector<raft::NodeId> members{"a", "b", "f", "slow"};
  c.join("x", "a", members);
  c.join("x", "b", members);
  c.join("x", "f", members);  // the flooder
  RawWsClient slow(c.io, c.port(), "/x", {{hub_hello("slow")}}, /*read=*/false);
  REQUIRE(run_until(c.io, [&] { return c.hub().members("x").size() == 4; }));

  // f sends 64 KiB messages to slow, a few in flight at a time, until the
  // hub's queue for slow overflows (its socket buffers fill up first).
  std::uint64_t flooded = 0;
  const auto flood = [&] {
    while (flooded < c.status("f", "slow").frames_out + 8) {
      c.channel("f").send(big_append("f", "slow", 64 << 10));
      ++flooded;
    }
  };
  REQUIRE(run_until(
      c.io,
      [&] {
        flood();
        return c.hub().stats().dropped_full > 0;
      },
      std::chrono::seconds(30)));

  // Meanwhile a -> b is prompt: each message arrives well within a second.
  const auto dropped_before = c.hub().stats().dropped_full;
  for (raft::Term t = 1; t <= 10; ++t) {
    CAPTURE(t);
    c.channel("a").send(vote("a", "b", t));
    const auto sent_at = std::chrono::steady_clock::now();
    REQUIRE(run_until(
        c.io,
        [&] {
          flood();
          return c.received("b", t);
        },
        std::chrono::seconds(1)));
    CHECK(std::chrono::steady_clock::now() - sent_at < std::chrono::milliseconds(500));
  }
  CHECK(c.hub().stats().dropped_full > dropped_before);  // slow is still not reading
  CHECK(c.status("a", "b").connected);
  CHECK(c.status("f", "b").connected);
}

TEST_CASE("ws hub: after a hub restart on the same port the channels reconnect") {
  HubCluster c;
  c.join("x", abc);
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));

  REQUIRE(c.stop_hub());  // run() returned: every connection ended
  CHECK(c.hub().members("x").empty());
  REQUIRE(run_until(c.io, [&] {
    for (const auto& id : abc) {
      for (const auto& s : c.channel(id).status()) {
        if (s.connected) return false;
      }
    }
    return true;
  }));

  c.restart_hub();
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  c.channel("a").send(vote("a", "b", 1));
  c.channel("c").send(vote("c", "a", 2));
  REQUIRE(run_until(c.io, [&] { return c.received("b", 1) && c.received("a", 2); }));
  CHECK(c.failures.empty());
}

TEST_CASE("ws hub: when a channel closes, the others see it disconnected") {
  HubCluster c;
  c.join("x", abc);
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));

  REQUIRE(c.close_channel("c"));
  REQUIRE(run_until(c.io, [&] { return !c.status("a", "c").connected; }));
  CHECK(c.status("a", "b").connected);
  CHECK(c.hub().members("x") == std::vector<raft::NodeId>{"a", "b"});

  c.join("x", "c", abc);  // and back again
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
}

TEST_CASE("ws hub: close() ends every coroutine and io_context::run() returns by itself") {
  HubCluster c;
  c.join("x", abc);
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  RawWsClient idle(c.io, c.port(), "/x", {});  // upgraded, but no hello yet
  REQUIRE(run_until(c.io, [&] { return idle.upgraded(); }));

  c.hub().close();
  for (const auto& id : abc) c.channel(id).close();
  c.io.restart();
  c.io.run_for(std::chrono::seconds(10));
  CHECK(c.io.stopped());
  CHECK_FALSE(c.hub_running());
  for (const auto& id : abc) CHECK_FALSE(c.channel_running(id));
  CHECK(c.failures.empty());
}
