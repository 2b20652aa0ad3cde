// The node engine (lib/src/engine.hpp) without sockets, executors or
// clocks: engines joined by a hand-driven wire, time moved by hand. These
// are the perform lifecycle's specifications: forwarding, completion on
// apply, no_leader, and the refusals that happen before anything is sent.
// Client sessions (exactly-once across failures) are in sessions_test.cpp.
#include <doctest/doctest.h>

#include <limits>

#include "lib/engine_cluster.hpp"

using namespace conflux;
using namespace conflux::detail;
using boost::json::value;

using namespace conflux::test;

TEST_CASE(
    "engine: a perform on a follower is forwarded, proposed by the leader, and completes once "
    "applied on the follower") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  const auto id = c.perform(follower, "append", {"x"});
  c.tick_all(3);
  REQUIRE(c.done(id));
  CHECK_FALSE(c.done(id)->error);
  CHECK(c.done(id)->result == value({{"append", "x"}}));
  CHECK(c.engine(follower).state() == value(boost::json::array{"x"}));
  // The first perform opens the follower's client session first.
  CHECK(c.sent<transport::PerformRequest>() == 2);
  CHECK(c.sent<transport::PerformReply>() == 2);
}

TEST_CASE(
    "engine: a null result and refusals are recorded in the log and change nothing; an unknown "
    "method appends nothing") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  const auto opened = c.perform(follower, "append", {"x"});  // opens the session
  c.tick_all(3);
  REQUIRE(c.done(opened));
  const auto last = c.engine(leader).raft().log().last_index();
  const auto nothing = c.perform(follower, "nothing", {});
  const auto refused = c.perform(follower, "refuse", {});
  c.tick_all(3);
  REQUIRE(c.done(nothing));
  CHECK(c.done(nothing)->result.is_null());
  CHECK_FALSE(c.done(nothing)->error);
  REQUIRE(c.done(refused));
  CHECK(c.error_of(refused) == errc::method_failed);
  CHECK(c.engine(leader).raft().log().last_index() == last + 2);
  CHECK(c.engine(follower).state() == value(boost::json::array{"x"}));
  const auto unknown = c.perform(leader, "no_such_method", {});
  c.tick_all(3);
  REQUIRE(c.done(unknown));
  CHECK(c.error_of(unknown) == errc::unknown_method);
  CHECK(c.engine(leader).raft().log().last_index() == last + 3);  // its own session opened, only
}

TEST_CASE("engine: arguments that cannot cross the wire are refused where perform is called") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  const auto infinite = std::numeric_limits<double>::infinity();
  for (const auto node : {follower, leader}) {
    const auto id = c.perform(node, "append", {infinite});
    REQUIRE(c.done(id));
    CHECK(c.error_of(id) == errc::bad_arguments);
  }
  const auto latin1 = c.perform(follower, "append", {"caf\xe9"});
  REQUIRE(c.done(latin1));
  CHECK(c.error_of(latin1) == errc::bad_arguments);
  const auto deep = c.perform(follower, "append",
                              {boost::json::parse(std::string(30, '[') + std::string(30, ']'))});
  REQUIRE(c.done(deep));
  CHECK(c.error_of(deep) == errc::bad_arguments);
  const auto utf8 = c.perform(follower, "append", {"caf\xc3\xa9 \xf0\x9f\x98\x80"});
  c.tick_all(3);
  REQUIRE(c.done(utf8));
  CHECK_FALSE(c.done(utf8)->error);
  CHECK(c.sent<transport::PerformRequest>() == 2);  // the session opening, and the valid one
}

TEST_CASE(
    "engine: with no reachable leader a perform waits, then fails as no_leader at its deadline; "
    "nothing was proposed") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  c.isolate(follower);
  const auto id = c.perform(follower, "append", {"x"}, std::chrono::milliseconds(200));
  CHECK(c.sent<transport::PerformRequest>() == 0);
  c.tick_all(25);
  REQUIRE(c.done(id));
  CHECK(c.error_of(id) == errc::no_leader);
}

TEST_CASE("engine: fail_all completes every pending perform with the code given") {
  EngineCluster c(3);
  const auto leader = c.elect();
  c.isolate(leader);
  const auto id = c.perform(leader, "append", {"x"});
  c.engine(leader).fail_all(errc::closed, "closing");
  c.round(leader);
  REQUIRE(c.done(id));
  CHECK(c.error_of(id) == errc::closed);
}

TEST_CASE("engine: several snapshots arriving whole in one round restore the last one") {
  EngineCluster cluster(2);
  auto& follower = cluster.engine(1);
  // A burst of queued chunks after a restart: three single-chunk snapshots
  // from leader n1, stepped before any Ready is written. The storage keeps
  // the newest two only.
  for (const int index : {5, 10, 15}) {
    std::string state = "[";
    for (int i = 1; i <= index; ++i) state += (i > 1 ? "," : "") + std::to_string(i);
    const auto text = R"({"conflux_snapshot":1,"state":)" + state + "]}";
    follower.receive(raft::Message{
        "n1", "n2", 1,
        raft::SnapshotRequest{.index = static_cast<raft::Index>(index),
                              .snapshot_term = 1,
                              .size = text.size(),
                              .offset = 0,
                              .data = raft::Payload(text),
                              .done = true,
                              .configuration = cluster.engine(0).raft().configuration()}});
  }
  cluster.round(1);
  CHECK(follower.raft().snapshot().index == 15);
  CHECK(follower.state().as_array().size() == 15);
  CHECK(follower.counters().snapshots_installed == 3);
}

TEST_CASE(
    "engine: after a failed snapshot, the next is tried only once the threshold passes again") {
  EngineCluster c(3, [](Options& options) {
    options.snapshot = {.entries = 2, .bytes = 0, .trailing_entries = 0};
  });
  const auto leader = c.elect();
  auto& engine = c.engine(leader);
  const auto append = [&](const char* item) {
    const auto id = c.perform(leader, "append", {item});
    c.tick_all(3);
    REQUIRE(c.done(id));
  };
  append("a");
  append("b");
  const auto job = engine.take_snapshot_job();
  REQUIRE(job);
  engine.snapshot_taken(std::nullopt, 0);  // its write failed
  // Not at once again (each round would copy the state for nothing) ...
  CHECK_FALSE(engine.take_snapshot_job());
  append("c");
  CHECK_FALSE(engine.take_snapshot_job());
  // ... but two entries past the index that failed.
  append("d");
  const auto again = engine.take_snapshot_job();
  REQUIRE(again);
  CHECK(again->identity.index == job->identity.index + 2);
}
