// The Conflux API end to end: performs of every kind, on every node, over
// the in-process channel and TCP, with 1, 3 and 5 nodes (the scenarios of
// the original JavaScript Conflux's test suites).

#include <doctest/doctest.h>

#include "lib/cluster_fixture.hpp"

using namespace conflux;
using namespace conflux::test;
using boost::json::array;
using boost::json::value;

namespace {

Result perform(NodeCluster& c, std::size_t node, const std::string& method, array args,
               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  Result result;
  c.node(node).perform(method, std::move(args), timeout, result.handler());
  run_until(
      c.io, [&] { return result.done; }, timeout + std::chrono::seconds(2));
  return result;
}

}  // namespace

// Bodies of test cases run once per channel (defined below them).
static void concurrent_performs(Wire wire);
static void follower_performs_and_failover(Wire wire);

TEST_CASE(
    "perform: an action, an action with arguments, null and an error, on every cluster size") {
  for (const auto wire : {Wire::in_process, Wire::tcp, Wire::tls, Wire::websocket, Wire::redis}) {
    for (const std::size_t size : {1, 3, 5}) {
      CAPTURE(size);
      CAPTURE(to_string(wire));
      NodeCluster c(size, wire);
      std::vector<value> seen;
      auto subscription =
          c.node(0).subscribe([&](const value& state, const value&) { seen.push_back(state); });

      auto foo = perform(c, 0, "append", {"foo"});
      CHECK_FALSE(foo.error);
      CHECK(foo.value == value(boost::json::object{{"append", "foo"}}));
      CHECK(c.node(0).state() == value(array{"foo"}));  // applied here before completing

      auto nothing = perform(c, size - 1, "nothing", {});
      CHECK_FALSE(nothing.error);
      CHECK(nothing.value.is_null());

      auto refused = perform(c, size - 1, "refuse", {});
      CHECK(refused.code() == errc::method_failed);
      CHECK(refused.message() == "It is not your turn!");  // intact, even across the network

      auto bar = perform(c, size - 1, "append", {"bar"});
      CHECK_FALSE(bar.error);
      CHECK(run_until(c.io, [&] { return c.converged(array{"foo", "bar"}); }));
      REQUIRE(seen.size() == 2);
      CHECK(seen.back() == value(array{"foo", "bar"}));
    }
  }
}

TEST_CASE("perform: an unknown method is refused by name") {
  NodeCluster c(3, Wire::in_process);
  auto result = perform(c, 1, "fly", {});
  CHECK(result.code() == errc::unknown_method);
  CHECK(result.message() == "fly is not a registered method");
}

TEST_CASE("perform: a timeout of 0 fails with a timeout error") {
  NodeCluster c(1, Wire::in_process);
  auto result = perform(c, 0, "append", {"x"}, std::chrono::milliseconds(0));
  CHECK(result.code() == errc::timeout);
}

TEST_CASE("perform: an action the reducer refuses is never appended, and the caller hears why") {
  NodeCluster c(3, Wire::in_process);
  auto result = perform(c, 2, "poison", {});
  CHECK(result.code() == errc::reducer_failed);
  CHECK(result.message() == "the reducer refuses poison");
  CHECK(perform(c, 0, "append", {"after"}).error == nullptr);
}

TEST_CASE("perform: issued before any leader exists, it completes once one is elected") {
  NodeCluster c(3, Wire::in_process);
  Result result;
  c.node(1).perform("append", {"early"}, std::chrono::seconds(5), result.handler());  // at once
  REQUIRE(run_until(c.io, [&] { return result.done; }));
  CHECK_FALSE(result.error);
  CHECK(c.node(1).state() == value(array{"early"}));
}

TEST_CASE(
    "leadership: 5 nodes agree on one leader; closing it elects another and writes continue") {
  NodeCluster c(5, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  const auto old_leader = static_cast<std::size_t>(c.leader());
  const auto term = c.node(old_leader).status().term;
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(run_until(c.io, [&] { return c.node(i).status().leader == c.ids[old_leader]; }));
  }
  bool closed = false;
  c.node(old_leader).close([&] { closed = true; });
  REQUIRE(run_until(c.io, [&] { return closed; }));
  // A new leader within 2 x the election timeout's max (plus the pre-vote round).
  const auto survivor = (old_leader + 1) % 5;
  CHECK(run_until(
      c.io,
      [&] {
        const auto s = c.node(survivor).status();
        return !s.leader.empty() && s.leader != c.ids[old_leader] && s.term > term;
      },
      std::chrono::milliseconds(2 * 200 + 200)));
  CHECK(perform(c, survivor, "append", {"after failover"}).error == nullptr);
}

TEST_CASE(
    "partition: the cut-off node's performs fail retryably, the majority's succeed, and all "
    "converge") {
  NodeCluster c(5, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  REQUIRE(perform(c, 0, "append", {"before"}).error == nullptr);
  const auto leader = static_cast<std::size_t>(c.leader());
  const auto minority = (leader + 1) % 5;  // cut off alone
  c.network.isolate(c.ids[minority]);
  auto cut = perform(c, minority, "append", {"lost"}, std::chrono::milliseconds(500));
  CHECK(cut.code() == errc::no_leader);  // never forwarded over the dead link: nothing proposed
  CHECK(perform(c, leader, "append", {"majority"}).error == nullptr);
  c.network.heal_all();
  CHECK(run_until(c.io, [&] { return c.converged(array{"before", "majority"}); }));
}

TEST_CASE("provisional state shows actions the followers have not acknowledged") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  const auto leader = static_cast<std::size_t>(c.leader());
  REQUIRE(perform(c, leader, "append", {"sure"}).error == nullptr);  // its session is open
  for (const auto& id : c.ids) {
    if (id != c.ids[leader]) c.network.isolate(id);
  }
  Result pending;
  c.node(leader).perform("append", {"maybe"}, std::chrono::milliseconds(300), pending.handler());
  REQUIRE(run_until(c.io, [&] {
    return c.node(leader).provisional_state() == value(array{"sure", "maybe"});
  }));
  CHECK(c.node(leader).state() == value(array{"sure"}));
  REQUIRE(run_until(c.io, [&] { return pending.done; }));
  CHECK(pending.code() == errc::timeout);
}

TEST_CASE("subscribe: callbacks follow commits in order; unsubscribing stops them") {
  NodeCluster c(3, Wire::in_process);
  std::vector<value> actions;
  auto subscription =
      c.node(2).subscribe([&](const value&, const value& action) { actions.push_back(action); });
  REQUIRE(perform(c, 0, "append", {1}).error == nullptr);
  REQUIRE(perform(c, 1, "append", {2}).error == nullptr);
  REQUIRE(run_until(c.io, [&] { return actions.size() == 2; }));
  CHECK(actions[0].at("append") == 1);
  CHECK(actions[1].at("append") == 2);
  subscription.unsubscribe();
  REQUIRE(perform(c, 2, "append", {3}).error == nullptr);
  CHECK(actions.size() == 2);
}

TEST_CASE(
    "subscribe: a callback unsubscribed by another callback never runs again, even in the same "
    "commit, and what it captured is released at once") {
  NodeCluster c(3, Wire::in_process);
  struct Tracker {
    bool* destroyed;
    ~Tracker() { *destroyed = true; }
  };
  bool destroyed = false;
  int second_calls = 0;
  bool released_at_once = false;
  Subscription second;
  // Subscribed first, so it runs first: it unsubscribes the second.
  auto first = c.node(0).subscribe([&](const value&, const value&) {
    second.unsubscribe();
    released_at_once = destroyed;
  });
  second = c.node(0).subscribe(
      [&, tracker = std::make_shared<Tracker>(Tracker{&destroyed})](const value&, const value&) {
        REQUIRE_FALSE(*tracker->destroyed);  // would read a destroyed object
        ++second_calls;
      });
  std::vector<value> later;
  auto third =
      c.node(0).subscribe([&](const value&, const value& action) { later.push_back(action); });
  REQUIRE(perform(c, 0, "append", {1}).error == nullptr);
  REQUIRE(run_until(c.io, [&] { return later.size() == 1; }));
  CHECK(second_calls == 0);
  CHECK(released_at_once);
}

TEST_CASE(
    "concurrent performs on every node: each success appears exactly once, in one order "
    "everywhere") {
  for (const auto wire : {Wire::tcp, Wire::tls, Wire::websocket, Wire::redis}) {
    CAPTURE(to_string(wire));
    concurrent_performs(wire);
  }
}

void concurrent_performs(Wire wire) {
  NodeCluster c(3, wire);
  std::vector<Result> results(60);
  for (std::size_t i = 0; i < results.size(); ++i) {
    c.node(i % 3).perform("append", {static_cast<std::int64_t>(i)}, std::chrono::seconds(10),
                          results[i].handler());
  }
  REQUIRE(run_until(
      c.io,
      [&] {
        return std::all_of(results.begin(), results.end(), [](const Result& r) { return r.done; });
      },
      std::chrono::seconds(15)));
  std::set<std::int64_t> succeeded;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i].error) succeeded.insert(static_cast<std::int64_t>(i));
  }
  CHECK(succeeded.size() >= results.size() - 3);  // only a leadership change may lose a few
  REQUIRE(run_until(c.io, [&] {
    return c.node(0).state() == c.node(1).state() && c.node(1).state() == c.node(2).state();
  }));
  std::multiset<std::int64_t> in_state;
  for (const auto& item : c.node(0).state().as_array()) in_state.insert(item.as_int64());
  for (const auto i : succeeded) CHECK(in_state.count(i) == 1);
  // The links to a relay, as /status shows them: none on the mesh.
  const auto links = c.node(0).status().links;
  CHECK(links.size() == (wire == Wire::tcp || wire == Wire::tls ? 0
                         : wire == Wire::websocket              ? 1
                                                                : 2));
  for (const auto& link : links) {
    CAPTURE(link.name);
    CAPTURE(link.last_error);
    CHECK((link.up && link.connects >= 1 && !link.endpoint.empty()));
  }
}

TEST_CASE("close(): pending performs fail with closed, and io_context::run() returns by itself") {
  auto c = std::make_unique<NodeCluster>(3, Wire::in_process);
  c->network.isolate("n1");
  c->network.isolate("n2");
  c->network.isolate("n3");
  Result pending;
  c->node(0).perform("append", {"never"}, std::chrono::seconds(30), pending.handler());
  for (auto& node : c->nodes) node->close([] {});
  c->io.restart();
  c->io.run_for(std::chrono::seconds(5));
  CHECK(c->io.stopped());
  CHECK(pending.code() == errc::closed);
}

TEST_CASE(
    "perform: an action lost to a new leader is sent to it again and applied once: the caller "
    "sees a success") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  REQUIRE(perform(c, 0, "append", {"first"}).error == nullptr);
  const auto old_leader = static_cast<std::size_t>(c.leader());
  REQUIRE(perform(c, old_leader, "append", {"opened"}).error == nullptr);  // its session
  c.network.isolate(c.ids[old_leader]);
  Result lost;  // appended on the isolated leader only, then replaced
  c.node(old_leader).perform("append", {"again"}, std::chrono::seconds(10), lost.handler());
  const auto other = (old_leader + 1) % 3;
  REQUIRE(run_until(c.io, [&] {
    const auto s = c.node(other).status();
    return !s.leader.empty() && s.leader != c.ids[old_leader];
  }));
  auto replacement = perform(c, other, "append", {"replacement"}, std::chrono::seconds(5));
  REQUIRE(replacement.error == nullptr);
  c.network.heal_all();
  REQUIRE(run_until(c.io, [&] { return lost.done; }));
  CHECK_MESSAGE(lost.error == nullptr, lost.message());
  CHECK(run_until(c.io, [&] {
    return c.converged(array{"first", "opened", "replacement", "again"});
  }));
}

TEST_CASE(
    "follower-originated performs over TCP, WebSocket and Redis, and a new leader after the old "
    "one closes") {
  for (const auto wire : {Wire::tcp, Wire::tls, Wire::websocket, Wire::redis}) {
    CAPTURE(to_string(wire));
    follower_performs_and_failover(wire);
  }
}

void follower_performs_and_failover(Wire wire) {
  NodeCluster c(3, wire);
  REQUIRE(c.wait_for_leader());
  const auto leader = static_cast<std::size_t>(c.leader());
  const auto follower = (leader + 1) % 3;
  REQUIRE(perform(c, follower, "append", {"from a follower"}).error == nullptr);
  CHECK(c.node(follower).state() == value(array{"from a follower"}));
  bool closed = false;
  c.node(leader).close([&] { closed = true; });
  REQUIRE(run_until(c.io, [&] { return closed; }));
  CHECK(run_until(
      c.io,
      [&] {
        const auto s = c.node(follower).status();
        return !s.leader.empty() && s.leader != c.ids[leader];
      },
      std::chrono::milliseconds(2 * 200 + 300)));
  CHECK(perform(c, follower, "append", {"after"}).error == nullptr);
}

namespace {

/// The value's JSON text with each number's kind, so that an int64 and a
/// uint64 of the same value (equal to operator==) tell apart.
std::string with_kinds(const value& v) {
  switch (v.kind()) {
    case boost::json::kind::array: {
      std::string text = "[";
      for (const auto& item : v.get_array()) text += with_kinds(item) + ",";
      return text + "]";
    }
    case boost::json::kind::int64:
      return "i" + boost::json::serialize(v);
    case boost::json::kind::uint64:
      return "u" + boost::json::serialize(v);
    case boost::json::kind::double_:
      return "d" + boost::json::serialize(v);
    default:
      return boost::json::serialize(v);
  }
}

value nested_arrays(int depth) {
  value v = 1;
  for (int i = 0; i < depth; ++i) v = array{std::move(v)};
  return v;
}

}  // namespace

TEST_CASE("perform: the leader applies exactly what the replicas parse, or refuses the action") {
  NodeCluster c(3, Wire::in_process);
  REQUIRE(c.wait_for_leader());
  const auto leader = static_cast<std::size_t>(c.leader());
  const std::vector<value> carried{0.1,
                                   1e300,
                                   std::uint64_t{5},  // comes back as an int64
                                   std::uint64_t{1} << 63,
                                   -7,
                                   "caf\xc3\xa9",
                                   nested_arrays(20),
                                   boost::json::object{{"k\xc3\xa9y", 2.5}}};
  for (const auto& thing : carried) {
    CAPTURE(boost::json::serialize(thing));
    const auto result = perform(c, leader, "append", {thing});
    REQUIRE(result.error == nullptr);
  }
  const auto expected = with_kinds(c.node(leader).state());
  CHECK(expected.find("i5") != std::string::npos);
  CHECK(run_until(c.io, [&] {
    for (std::size_t i = 0; i < 3; ++i) {
      if (with_kinds(c.node(i).state()) != expected) return false;
    }
    return true;
  }));
  for (const auto& refused : {value("\xff not UTF-8"), nested_arrays(40)}) {
    const auto result = perform(c, leader, "append", {refused});
    CHECK(result.code() == errc::bad_arguments);
  }
}

TEST_CASE("an in-place reducer: the same results, and a refused action changes no state") {
  NodeCluster c(3, Wire::in_process, /*in_place=*/true);
  REQUIRE(c.wait_for_leader());
  const auto leader = static_cast<std::size_t>(c.leader());
  const auto follower = (leader + 1) % 3;
  CHECK(c.node(leader).state() == value(array{}));  // built from null
  REQUIRE(perform(c, leader, "append", {"foo"}).error == nullptr);
  const auto poisoned = perform(c, follower, "poison", {});
  CHECK(poisoned.code() == errc::reducer_failed);
  CHECK(poisoned.message() == "the reducer refuses poison");
  CHECK(c.node(leader).provisional_state() == value(array{"foo"}));
  REQUIRE(perform(c, follower, "append", {"bar"}).error == nullptr);
  CHECK(run_until(c.io, [&] { return c.converged(array{"foo", "bar"}); }));
  for (std::size_t i = 0; i < 3; ++i) CHECK(c.node(i).provisional_state() == c.node(i).state());
}
