// The in-process channel: same semantics as the TCP mesh, no sockets, and
// fault knobs for tests of the layers above.

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <map>

#include "transport/run_until.hpp"

using namespace conflux;
using conflux::test::run_until;
using transport::DropReason;

namespace {

raft::Message vote(const raft::NodeId& from, const raft::NodeId& to, raft::Term term) {
  return raft::Message{from, to, term, raft::VoteRequest{false, term, term}};
}

struct Cluster {
  boost::asio::io_context io;
  transport::InProcessNetwork network{42};
  std::map<raft::NodeId, std::vector<raft::Message>> inbox;
  std::map<raft::NodeId, std::unique_ptr<transport::InProcessChannel>> channels;

  explicit Cluster(const std::vector<raft::NodeId>& ids) {
    for (const auto& id : ids) {
      channels[id] = std::make_unique<transport::InProcessChannel>(
          network, id, ids, io.get_executor(), [this, id](transport::Packet p) {
            inbox[id].push_back(std::get<raft::Message>(std::move(p)));
          });
      boost::asio::co_spawn(io, channels[id]->run(), boost::asio::detached);
    }
  }
  transport::PeerStatus status(const raft::NodeId& of, const raft::NodeId& peer) {
    for (auto& s : channels[of]->status()) {
      if (s.id == peer) return s;
    }
    FAIL("no such peer");
    return {};
  }
};

}  // namespace

TEST_CASE("in-process: messages reach their addressee, in order, and a node can send to itself") {
  Cluster c({"a", "b", "c"});
  for (raft::Term t = 1; t <= 50; ++t) c.channels["a"]->send(vote("a", "b", t));
  c.channels["a"]->send(vote("a", "a", 99));
  REQUIRE(run_until(c.io, [&] { return c.inbox["b"].size() == 50 && c.inbox["a"].size() == 1; }));
  for (raft::Term t = 1; t <= 50; ++t) CHECK(c.inbox["b"][t - 1].term == t);
  CHECK(c.inbox["a"][0].term == 99);
  CHECK(c.inbox["c"].empty());
  CHECK(c.status("a", "b").frames_out == 50);
  CHECK(c.status("b", "a").frames_in == 50);
}

TEST_CASE("in-process: a partition drops messages both ways and counts them; healing restores") {
  Cluster c({"a", "b", "c"});
  c.network.partition("a", "b");
  c.channels["a"]->send(vote("a", "b", 1));
  c.channels["b"]->send(vote("b", "a", 1));
  c.channels["a"]->send(vote("a", "c", 1));
  REQUIRE(run_until(c.io, [&] { return c.inbox["c"].size() == 1; }));
  CHECK(c.inbox["a"].empty());
  CHECK(c.inbox["b"].empty());
  CHECK(c.status("a", "b").dropped_for(DropReason::fault_injected) == 1);
  CHECK_FALSE(c.status("a", "b").connected);

  c.network.heal("a", "b");
  c.channels["a"]->send(vote("a", "b", 2));
  REQUIRE(run_until(c.io, [&] { return c.inbox["b"].size() == 1; }));
  CHECK(c.status("a", "b").connected);
}

TEST_CASE("in-process: isolate cuts a node off from everyone") {
  Cluster c({"a", "b", "c"});
  c.network.isolate("c");
  c.channels["a"]->send(vote("a", "c", 1));
  c.channels["c"]->send(vote("c", "b", 1));
  c.channels["a"]->send(vote("a", "b", 1));
  REQUIRE(run_until(c.io, [&] { return c.inbox["b"].size() == 1; }));
  CHECK(c.inbox["b"][0].from == "a");
  CHECK(c.inbox["c"].empty());
}

TEST_CASE("in-process: a drop rate of 1000 per mille loses everything but self-sends") {
  Cluster c({"a", "b"});
  c.network.set_drop_rate(1000);
  for (int i = 0; i < 10; ++i) c.channels["a"]->send(vote("a", "b", 1));
  c.channels["a"]->send(vote("a", "a", 1));
  REQUIRE(run_until(c.io, [&] { return c.inbox["a"].size() == 1; }));
  c.io.restart();
  c.io.poll();
  CHECK(c.inbox["b"].empty());
  CHECK(c.status("a", "b").dropped_for(DropReason::fault_injected) == 10);
}

TEST_CASE("in-process: delayed messages still arrive") {
  Cluster c({"a", "b"});
  c.network.set_delay(std::chrono::milliseconds(5), std::chrono::milliseconds(20));
  for (raft::Term t = 1; t <= 10; ++t) c.channels["a"]->send(vote("a", "b", t));
  REQUIRE(run_until(c.io, [&] { return c.inbox["b"].size() == 10; }));
}

TEST_CASE("in-process: a closed node receives nothing and its peers count it unreachable") {
  Cluster c({"a", "b"});
  c.channels["b"]->close();
  c.channels["a"]->send(vote("a", "b", 1));
  c.channels["b"]->send(vote("b", "a", 1));
  c.io.restart();
  c.io.poll();
  CHECK(c.inbox["b"].empty());
  CHECK(c.inbox["a"].empty());
  CHECK(c.status("a", "b").dropped_for(DropReason::unreachable) == 1);
  CHECK(c.status("b", "a").dropped_for(DropReason::closed) == 1);
}

TEST_CASE("in-process: run() returns once the channel is closed, and io_context::run() returns") {
  Cluster c({"a", "b"});
  c.channels["a"]->close();
  c.channels["b"]->close();
  c.io.restart();
  c.io.run();  // returns by itself: nothing is left running
  CHECK(c.io.stopped());
}
