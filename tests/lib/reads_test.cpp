// Linearizable reads through the Node API (thesis §6.4): a read on any node
// reflects every action committed before it, on any node, and a leader cut
// off from its quorum never answers one. A method's answer that appends
// nothing (null, a refusal) is a read too, and held to the same rule.

#include <doctest/doctest.h>

#include "lib/cluster_fixture.hpp"

using namespace conflux;
using namespace conflux::test;
using boost::json::array;
using boost::json::value;

namespace {

Result wait(NodeCluster& c, const std::function<void(Result&)>& start) {
  Result result;
  start(result);
  run_until(
      c.io, [&] { return result.done; }, std::chrono::seconds(8));
  return result;
}

Result read(NodeCluster& c, std::size_t node,
            std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return wait(c, [&](Result& r) { c.node(node).linearizable_state(timeout, r.handler()); });
}

}  // namespace

TEST_CASE("linearizable_state: every node reads what was committed before the read") {
  for (const auto wire : {Wire::in_process, Wire::tcp, Wire::tls}) {
    CAPTURE(to_string(wire));
    NodeCluster c(3, wire);
    REQUIRE(c.wait_for_leader());
    const auto leader = static_cast<std::size_t>(c.leader());
    for (int i = 0; i < 5; ++i) {
      const auto written =
          wait(c, [&](Result& r) { c.node(leader).perform("append", {value(i)}, r.handler()); });
      REQUIRE(written.error == nullptr);
      // At once, on every node: a follower may not have applied the entry
      // yet, but its read waits until it has.
      for (std::size_t node = 0; node < 3; ++node) {
        CAPTURE(node);
        const auto seen = read(c, node);
        REQUIRE(seen.error == nullptr);
        CHECK(seen.value.as_array().size() == static_cast<std::size_t>(i + 1));
      }
    }
    CHECK(c.node(leader).metrics().reads_served >= 5);
  }
}

TEST_CASE("linearizable_state: concurrent reads all complete, sharing rounds") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  const auto leader = static_cast<std::size_t>(c.leader());
  REQUIRE(wait(c, [&](Result& r) { c.node(leader).perform("append", {"x"}, r.handler()); }).error ==
          nullptr);
  std::vector<Result> reads(64);
  for (std::size_t i = 0; i < reads.size(); ++i) {
    c.node(i % 3).linearizable_state(reads[i].handler());
  }
  REQUIRE(run_until(c.io, [&] {
    return std::all_of(reads.begin(), reads.end(), [](const Result& r) { return r.done; });
  }));
  for (const auto& r : reads) {
    CHECK(r.error == nullptr);
    CHECK(r.value == array{"x"});
  }
}

TEST_CASE("linearizable_state: a leader cut off from the quorum never serves a stale read") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  const auto old_leader = static_cast<std::size_t>(c.leader());
  REQUIRE(wait(c, [&](Result& r) {
            c.node(old_leader).perform("append", {"a"}, r.handler());
          }).error == nullptr);
  c.network.isolate(c.ids[old_leader]);
  Result stale;  // asked of the old leader before anyone else leads
  c.node(old_leader).linearizable_state(std::chrono::seconds(3), stale.handler());
  const auto other = (old_leader + 1) % 3;
  REQUIRE(run_until(c.io, [&] {
    const auto s = c.node(other).status();
    return !s.leader.empty() && s.leader != c.ids[old_leader];
  }));
  REQUIRE(wait(c, [&](Result& r) { c.node(other).perform("append", {"b"}, r.handler()); }).error ==
          nullptr);
  REQUIRE(run_until(
      c.io, [&] { return stale.done; }, std::chrono::seconds(5)));
  CHECK(stale.code() == errc::no_leader);  // never ["a"]
  c.network.heal_all();
  const auto fresh = read(c, old_leader);
  REQUIRE(fresh.error == nullptr);
  CHECK(fresh.value == array{"a", "b"});
}

TEST_CASE("linearizable_state: with no leader it fails after its timeout; close() fails it too") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  for (const auto& id : c.ids) c.network.isolate(id);
  const auto lonely = read(c, 0, std::chrono::milliseconds(300));
  CHECK(lonely.code() == errc::no_leader);
  Result closing;
  c.node(1).linearizable_state(std::chrono::seconds(10), closing.handler());
  c.node(1).close([] {});
  REQUIRE(run_until(c.io, [&] { return closing.done; }));
  CHECK(closing.code() == errc::closed);
}

TEST_CASE("a refusal read from a deposed leader's uncommitted log is never given") {
  NodeCluster c(3, Wire::in_process, false, [](Options& options) {
    options.methods["add_once"] = [](const value& state, const array& args) -> value {
      for (const auto& item : state.as_array()) {
        if (item == args.at(0)) throw Rejection("already there");
      }
      return boost::json::object{{"append", args.at(0)}};
    };
  });
  REQUIRE(c.wait_for_leader());
  const auto old_leader = static_cast<std::size_t>(c.leader());
  REQUIRE(wait(c, [&](Result& r) {
            c.node(old_leader).perform("append", {"x"}, r.handler());
          }).error == nullptr);  // its client session is open
  c.network.isolate(c.ids[old_leader]);
  Result doomed;  // appended on the isolated leader only, never committed; given up
  c.node(old_leader).perform("append", {"y"}, std::chrono::milliseconds(300), doomed.handler());
  Result refused_or_not;  // its method sees "y" in the provisional state
  c.node(old_leader).perform("add_once", {"y"}, std::chrono::seconds(10), refused_or_not.handler());
  const auto other = (old_leader + 1) % 3;
  REQUIRE(run_until(c.io, [&] {
    const auto s = c.node(other).status();
    return !s.leader.empty() && s.leader != c.ids[old_leader];
  }));
  REQUIRE(wait(c, [&](Result& r) { c.node(other).perform("append", {"z"}, r.handler()); }).error ==
          nullptr);
  REQUIRE(run_until(c.io, [&] { return doomed.done; }));
  CHECK(doomed.code() == errc::timeout);
  c.network.heal_all();
  REQUIRE(run_until(c.io, [&] { return refused_or_not.done; }));
  // Not "already there": that answer was never committed, so add_once ran
  // again on the new leader, where "y" is absent.
  CHECK_MESSAGE(refused_or_not.error == nullptr, refused_or_not.message());
  CHECK(run_until(c.io, [&] { return c.converged(array{"x", "z", "y"}); }));
}
