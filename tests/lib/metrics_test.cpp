// What monitoring and the dashboard read: Node::metrics(), the peers in
// Node::status(), Node::log_tail(), and the set_isolated() fault knob.

#include <doctest/doctest.h>

#include "lib/cluster_fixture.hpp"

using namespace conflux;
using namespace conflux::test;

TEST_CASE("histogram: an observation lands in the first bucket whose bound is not below it") {
  Histogram h;
  h.observe(0.0001);  // exactly on the first bound
  h.observe(0.0003);
  h.observe(0.7);
  h.observe(60);  // above every bound: the overflow bucket
  CHECK(h.bucket(0) == 1);
  CHECK(h.bucket(2) == 1);   // (0.00025, 0.0005]
  CHECK(h.bucket(12) == 1);  // (0.5, 1]
  CHECK(h.bucket(Histogram::bounds.size()) == 1);
  CHECK(h.count() == 4);
  CHECK(h.sum() == doctest::Approx(60.7004));
}

TEST_CASE("metrics: performs, applied entries, elections and traffic are counted") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  const auto leader = static_cast<std::size_t>(c.leader());
  const auto follower = (leader + 1) % 3;
  int done = 0;
  for (int i = 0; i < 5; ++i) {
    c.node(follower).perform("append", {i},
                             [&](std::exception_ptr, boost::json::value) { ++done; });
  }
  c.node(follower).perform("refuse", {}, [&](std::exception_ptr, boost::json::value) { ++done; });
  REQUIRE(run_until(c.io, [&] { return done == 6; }));

  const auto m = c.node(follower).metrics();
  CHECK(m.performs_succeeded == 5);
  CHECK(m.perform_latency.count() == 5);
  CHECK(m.performs_failed.at("method_failed") == 1);
  CHECK(m.entries_applied >= 6);        // the leader's no-op and five actions
  CHECK(m.fsync_latency.count() == 0);  // in memory: nothing synced
  REQUIRE(m.peers.size() == 2);
  for (const auto& peer : m.peers) {
    CHECK(peer.dropped.size() == transport::drop_reason_count);
    if (peer.id != c.ids[leader]) continue;
    CHECK(peer.frames_in > 0);   // heartbeats and entries (in-process: no bytes counted)
    CHECK(peer.frames_out > 0);  // acknowledgements and forwarded performs
  }
  const auto lm = c.node(leader).metrics();
  CHECK(lm.elections >= 1);
  CHECK(lm.leaderships == 1);
}

TEST_CASE("status: the leader reports each peer's match index; followers report none") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  const auto leader = static_cast<std::size_t>(c.leader());
  const auto commit = c.node(leader).status().commit;
  REQUIRE(run_until(c.io, [&] {
    for (const auto& peer : c.node(leader).status().peers) {
      if (!peer.match || *peer.match < commit) return false;
    }
    return true;
  }));
  const auto status = c.node(leader).status();
  CHECK(status.peers.size() == 2);
  for (const auto& peer : c.node((leader + 1) % 3).status().peers) CHECK_FALSE(peer.match);
}

TEST_CASE("no_leader: a perform on a node that never hears of a leader is retryable") {
  NodeCluster c(3, Wire::in_process);
  c.network.isolate(c.ids[0]);  // before any election: node 0 never learns a leader
  Result result;
  c.node(0).perform("append", {"x"}, std::chrono::milliseconds(300), result.handler());
  REQUIRE(run_until(c.io, [&] { return result.done; }));
  CHECK(result.code() == errc::no_leader);
  CHECK(is_retryable(errc::no_leader));
}

TEST_CASE("log sink: role changes are logged at info") {
  transport::InProcessNetwork network;
  boost::asio::io_context io;
  std::vector<std::string> lines;
  Options options;
  options.id = "solo";
  options.peers = {{"solo", ""}};
  options.channel = InProcessChannelOptions{&network};
  options.reduce = list_reduce;
  options.log = [&](LogLevel level, std::string_view line) {
    if (level == LogLevel::info) lines.emplace_back(line);
  };
  Node node(io.get_executor(), options);
  REQUIRE(run_until(io, [&] { return node.status().role == "leader" && !lines.empty(); }));
  CHECK(lines.back() == "leader in term 1");
  node.close([] {});
  io.run_for(std::chrono::seconds(1));
}

TEST_CASE(
    "log_tail: the last entries, committed ones marked, the no-op without an action, session "
    "entries with theirs") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  const auto leader = static_cast<std::size_t>(c.leader());
  for (const char* item : {"a", "b"}) {
    Result r;
    c.node(leader).perform("append", {item}, r.handler());
    REQUIRE(run_until(c.io, [&] { return r.done; }));
  }
  const auto tail = c.node(leader).log_tail(10);
  REQUIRE(tail.size() == 4);
  CHECK(tail[0].action.empty());  // the leader's no-op
  CHECK(tail[0].session.empty());
  CHECK(tail[1].action.empty());  // the leader's client session opened
  CHECK(boost::json::parse(tail[1].session).as_object().contains("open"));
  CHECK(tail[2].action == "{\"append\":\"a\"}");
  CHECK(boost::json::parse(tail[2].session).at("seq") == 1);
  CHECK(tail[3].index == 4);
  CHECK(tail[3].committed);
  CHECK(c.node(leader).log_tail(1).size() == 1);
  CHECK(c.node(leader).log_tail(1)[0].index == 4);
}

TEST_CASE("set_isolated: an isolated leader loses its leadership, and rejoins once healed") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  const auto old = static_cast<std::size_t>(c.leader());
  c.node(old).set_isolated(true);
  CHECK(c.node(old).status().isolated);
  const auto other_leads = [&] {
    for (std::size_t i = 0; i < 3; ++i) {
      if (i != old && c.node(i).status().role == "leader") return true;
    }
    return false;
  };
  REQUIRE(run_until(c.io, [&] { return other_leads() && c.node(old).status().role != "leader"; }));
  Result during;
  c.node(old).perform("append", {"cut"}, std::chrono::milliseconds(300), during.handler());
  REQUIRE(run_until(c.io, [&] { return during.done; }));
  CHECK(during.code() == errc::no_leader);  // never forwarded: certainly not proposed
  c.node(old).set_isolated(false);
  Result after;
  c.node(old).perform("append", {"healed"}, after.handler());
  REQUIRE(run_until(c.io, [&] { return after.done; }));
  CHECK_FALSE(after.error);
  CHECK(run_until(c.io, [&] { return c.converged(boost::json::array{"healed"}); }));
}
