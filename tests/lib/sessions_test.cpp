// Exactly-once performs (thesis §6.3; lib/src/engine/client_sessions.cpp),
// on engines joined by a hand-driven wire: the leader is lost at every point
// of a forwarded perform's life (the forward lost, after the append, after
// the commit but before the reply), and each time the perform succeeds and
// its action is applied exactly once. Sessions expire by the leaders' clock
// in the log, and a caller's own session answers one (client, seq) alike on
// every node.
#include <doctest/doctest.h>

#include <algorithm>

#include "lib/engine_cluster.hpp"

using namespace conflux;
using namespace conflux::test;
using boost::json::array;
using boost::json::value;

namespace {

bool is_request(const transport::Packet& packet) {
  const auto* client = std::get_if<transport::ClientMessage>(&packet);
  return client && std::holds_alternative<transport::PerformRequest>(client->body);
}

/// Raft messages from `from` to `to` (either may be empty: any).
bool raft_between(const transport::Packet& packet, const std::string& from, const std::string& to) {
  const auto* message = std::get_if<raft::Message>(&packet);
  return message && (from.empty() || message->from == from) && (to.empty() || message->to == to);
}

/// Performs "append" [item] on node i and waits for it; the node's session
/// is open afterwards.
void append_and_wait(EngineCluster& c, std::size_t i, const char* item) {
  const auto id = c.perform(i, "append", {item});
  c.tick_all(5);
  REQUIRE(c.done(id));
  REQUIRE_FALSE(c.done(id)->error);
}

/// How many times `item` is in node i's committed list.
long count(EngineCluster& c, std::size_t i, const char* item) {
  const auto& list = c.engine(i).state().as_array();
  return std::count(list.begin(), list.end(), value(item));
}

/// Lets every message through again and waits (up to two election timeouts
/// and more) for perform `id`: it succeeded.
void succeeds_after_failover(EngineCluster& c, std::uint64_t id) {
  c.drop_if(nullptr);
  for (int t = 0; t < 60 && !c.done(id); ++t) c.tick_all();
  REQUIRE(c.done(id));
  CHECK_FALSE(c.done(id)->error);
}

/// Reconnects the old leader and checks that every node holds "x" once.
void applied_once_everywhere(EngineCluster& c, std::size_t old_leader) {
  c.isolate(old_leader, false);
  c.tick_all(30);
  for (std::size_t i = 0; i < 3; ++i) CHECK(count(c, i, "x") == 1);
}

/// Cuts node `down` off and ticks until another node leads; its index.
std::size_t elect_without(EngineCluster& c, std::size_t down) {
  c.isolate(down);
  const auto next = c.elect();
  REQUIRE(next != down);
  return next;
}

}  // namespace

TEST_CASE("sessions: a lost forward is sent again after an election timeout and applied once") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  append_and_wait(c, follower, "warm");
  c.drop_if(is_request);
  const auto id = c.perform(follower, "append", {"x"});
  c.tick_all(5);
  CHECK_FALSE(c.done(id));
  c.drop_if(nullptr);
  c.tick_all(30);  // the election timeout is 10-20 ticks
  REQUIRE(c.done(id));
  CHECK_FALSE(c.done(id)->error);
  CHECK(c.done(id)->result == value({{"append", "x"}}));
  CHECK(count(c, follower, "x") == 1);
}

TEST_CASE("sessions: a lost opening of a node's session is sent again; its perform completes") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  c.drop_if(is_request);  // the opening is forwarded first, and lost
  const auto id = c.perform(follower, "append", {"x"}, std::chrono::seconds(60));
  c.tick_all(3);
  REQUIRE(c.sent<transport::PerformRequest>() >= 1);
  c.drop_if(nullptr);
  for (int t = 0; t < 60 && !c.done(id); ++t) c.tick_all();
  REQUIRE(c.done(id));
  CHECK_FALSE(c.done(id)->error);
  for (std::size_t i = 0; i < 3; ++i) CHECK(count(c, i, "x") == 1);
}

TEST_CASE("sessions: the leader dies before the forward reaches it; the next leader runs it once") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  append_and_wait(c, follower, "warm");
  c.drop_if(is_request);
  const auto id = c.perform(follower, "append", {"x"});
  elect_without(c, leader);
  succeeds_after_failover(c, id);
  applied_once_everywhere(c, leader);
}

TEST_CASE(
    "sessions: the leader dies after appending, before replicating; the next leader runs it "
    "once") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  append_and_wait(c, follower, "warm");
  const auto leader_id = c.id(leader);
  c.drop_if([&](const transport::Packet& p) { return raft_between(p, leader_id, ""); });
  const auto id = c.perform(follower, "append", {"x"});
  CHECK(c.engine(leader).provisional_state().as_array().back() == value("x"));  // appended
  elect_without(c, leader);
  succeeds_after_failover(c, id);
  applied_once_everywhere(c, leader);
}

TEST_CASE(
    "sessions: the leader dies after the commit, before its reply and before the follower hears "
    "of the commit; the next leader answers from its log, and nothing is applied twice") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  const auto third = (leader + 2) % 3;
  append_and_wait(c, follower, "warm");
  const auto leader_id = c.id(leader);
  const auto follower_id = c.id(follower);
  c.drop_if([&](const transport::Packet& p) {
    return is_reply(p) || raft_between(p, leader_id, follower_id);
  });
  const auto id = c.perform(follower, "append", {"x"});
  c.tick_all(3);
  REQUIRE(count(c, leader, "x") == 1);  // committed with the third node
  CHECK(count(c, follower, "x") == 0);
  CHECK_FALSE(c.done(id));
  const auto next = elect_without(c, leader);
  CHECK(next == third);  // the follower lacks the entry: it cannot win
  succeeds_after_failover(c, id);
  CHECK(c.done(id)->result == value({{"append", "x"}}));
  applied_once_everywhere(c, leader);
}

TEST_CASE(
    "sessions: a leader that loses its leadership sends its own perform again, applied once") {
  EngineCluster c(3);
  const auto leader = c.elect();
  append_and_wait(c, leader, "warm");
  c.isolate(leader);
  const auto lost = c.perform(leader, "append", {"again"});  // appended, never replicated
  const auto next = c.elect();
  const auto kept = c.perform(next, "append", {"kept"});
  c.tick_all(3);
  REQUIRE(c.done(kept));
  c.isolate(leader, false);
  c.tick_all(50);
  REQUIRE(c.done(lost));
  CHECK_FALSE(c.done(lost)->error);
  CHECK(c.engine(leader).state() == value(array{"warm", "kept", "again"}));
}

TEST_CASE("sessions: an idle node's session expires by the leader's clock; it opens another") {
  EngineCluster c(3, [](Options& options) { options.session_timeout = std::chrono::seconds(5); });
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  append_and_wait(c, follower, "before");
  const auto opened = c.engine(leader).raft().log().last_index() - 1;  // the follower's session
  REQUIRE(c.engine(follower).state() == value(array{"before"}));
  c.jump_wall_clock(60'000);
  // The leader writes the new time into the next entry, which expires the
  // session first: the perform in it is not applied, and runs again in a
  // new session.
  const auto id = c.perform(follower, "append", {"after"});
  c.tick_all(10);
  REQUIRE(c.done(id));
  CHECK_FALSE(c.done(id)->error);
  CHECK(c.engine(follower).state() == value(array{"before", "after"}));
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK_FALSE(c.engine(i).state().as_array().empty());
  }
  CHECK(c.engine(leader).raft().log().last_index() > opened + 3);
}

TEST_CASE("sessions: a caller's own session is answered alike on every node, applied once") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto open = c.perform(leader, std::string(reserved::method_open_session), {60'000});
  c.tick_all(5);
  REQUIRE(c.done(open));
  REQUIRE_FALSE(c.done(open)->error);
  const auto client = c.done(open)->result.as_uint64();
  CHECK(client > 0);

  std::vector<std::uint64_t> ids;
  for (std::size_t i = 0; i < 3; ++i) {
    ids.push_back(
        c.perform(i, "append", {"once"}, std::chrono::seconds(1), SessionCall{client, 1, 0}));
    c.tick_all(5);
  }
  for (const auto id : ids) {
    REQUIRE(c.done(id));
    CHECK_FALSE(c.done(id)->error);
    CHECK(c.done(id)->result == value({{"append", "once"}}));
  }
  for (std::size_t i = 0; i < 3; ++i) CHECK(count(c, i, "once") == 1);

  SUBCASE("a refusal is recorded too") {
    const auto first =
        c.perform(1, "refuse", {}, std::chrono::seconds(1), SessionCall{client, 2, 2});
    c.tick_all(5);
    const auto again =
        c.perform(2, "refuse", {}, std::chrono::seconds(1), SessionCall{client, 2, 2});
    c.tick_all(5);
    REQUIRE(c.done(first));
    REQUIRE(c.done(again));
    CHECK(c.error_of(first) == errc::method_failed);
    CHECK(c.error_of(again) == errc::method_failed);
  }
  SUBCASE("below the acknowledged sequence number, a request is stale") {
    const auto acked =
        c.perform(1, "append", {"two"}, std::chrono::seconds(1), SessionCall{client, 2, 2});
    c.tick_all(5);
    REQUIRE(c.done(acked));
    const auto stale =
        c.perform(2, "append", {"once"}, std::chrono::seconds(1), SessionCall{client, 1, 0});
    c.tick_all(5);
    REQUIRE(c.done(stale));
    CHECK(c.error_of(stale) == errc::stale_sequence);
    CHECK(count(c, 2, "once") == 1);
  }
  SUBCASE("an expired session is refused, and nothing is applied") {
    c.jump_wall_clock(120'000);
    append_and_wait(c, 0, "tick");  // an entry carries the new time
    const auto late =
        c.perform(1, "append", {"late"}, std::chrono::seconds(1), SessionCall{client, 2, 2});
    c.tick_all(5);
    REQUIRE(c.done(late));
    CHECK(c.error_of(late) == errc::session_expired);
    CHECK(count(c, 1, "late") == 0);
  }
  SUBCASE("numbers beyond 2^53-1 are refused on the leader before anything is proposed") {
    // Followers could not decode them: the entry would be applied on the
    // leader alone.
    const auto last = c.engine(leader).raft().log().last_index();
    const auto big = raft::max_wire_integer + 1;
    for (const auto call :
         {SessionCall{client, big, 0}, SessionCall{client, 2, big}, SessionCall{big, 1, 0}}) {
      const auto id = c.perform(leader, "append", {"big"}, std::chrono::seconds(1), call);
      c.tick_all(2);
      REQUIRE(c.done(id));
      CHECK(c.error_of(id) == errc::bad_arguments);
    }
    CHECK(c.engine(leader).raft().log().last_index() == last);
    for (std::size_t i = 0; i < 3; ++i) CHECK(count(c, i, "big") == 0);
  }
  SUBCASE("a session that was never opened is refused, even one far ahead of the log") {
    for (const std::uint64_t bogus : {client + 1, raft::max_wire_integer}) {
      const auto id =
          c.perform(1, "append", {"x"}, std::chrono::seconds(1), SessionCall{bogus, 1, 0});
      c.tick_all(5);
      REQUIRE(c.done(id));
      CHECK(c.error_of(id) == errc::session_expired);
    }
    CHECK(count(c, 1, "x") == 0);
  }
}

TEST_CASE(
    "sessions: they live in snapshots; a leader that installed one answers a retry from them") {
  EngineCluster c(3, [](Options& options) { options.snapshot.trailing_entries = 0; });
  const auto leader = c.elect();
  const auto behind = (leader + 1) % 3;
  const auto open = c.perform(leader, std::string(reserved::method_open_session), {60'000});
  c.tick_all(5);
  REQUIRE(c.done(open));
  const auto client = c.done(open)->result.as_uint64();
  c.isolate(behind);
  const auto first =
      c.perform(leader, "append", {"once"}, std::chrono::seconds(1), SessionCall{client, 1, 0});
  c.tick_all(5);
  REQUIRE(c.done(first));
  REQUIRE_FALSE(c.done(first)->error);
  c.snapshot(leader);  // the entry is compacted away: `behind` gets the snapshot
  c.isolate(behind, false);
  c.tick_all(30);
  REQUIRE(c.engine(behind).raft().snapshot().index > 0);
  REQUIRE(count(c, behind, "once") == 1);

  const auto transfer =
      c.perform(leader, std::string(reserved::method_transfer_leadership), {c.id(behind)});
  c.tick_all(30);
  REQUIRE(c.done(transfer));
  REQUIRE(c.engine(behind).raft().role() == raft::Role::leader);
  const auto retry =
      c.perform(behind, "append", {"once"}, std::chrono::seconds(1), SessionCall{client, 1, 0});
  c.tick_all(5);
  REQUIRE(c.done(retry));
  CHECK_MESSAGE(!c.done(retry)->error, "the retry was not answered from the snapshot's sessions");
  CHECK(c.done(retry)->result == value({{"append", "once"}}));
  c.tick_all(5);
  for (std::size_t i = 0; i < 3; ++i) CHECK(count(c, i, "once") == 1);
}

TEST_CASE(
    "sessions: a node cut off after forwarding completes its perform from the snapshot it "
    "installs, without running it again") {
  EngineCluster c(3, [](Options& options) { options.snapshot.trailing_entries = 0; });
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  append_and_wait(c, follower, "warm");
  const auto follower_id = c.id(follower);
  c.drop_if([&](const transport::Packet& p) {  // nothing reaches the follower any more
    return transport::recipient(p) == follower_id;
  });
  const auto id = c.perform(follower, "append", {"x"});
  c.tick_all(3);
  REQUIRE(count(c, leader, "x") == 1);
  CHECK_FALSE(c.done(id));
  c.snapshot(leader);  // the entry is compacted away: the follower gets the snapshot
  c.drop_if(nullptr);
  c.tick_all(30);
  REQUIRE(c.engine(follower).raft().snapshot().index > 0);
  REQUIRE(c.done(id));
  CHECK_FALSE(c.done(id)->error);
  CHECK(c.done(id)->result == value({{"append", "x"}}));
  c.tick_all(10);
  for (std::size_t i = 0; i < 3; ++i) CHECK(count(c, i, "x") == 1);
}

TEST_CASE(
    "sessions: a perform sent in a session that ended inside the snapshot a node installs "
    "fails as outcome_unknown instead of running again") {
  EngineCluster c(3, [](Options& options) {
    options.snapshot.trailing_entries = 0;
    options.session_timeout = std::chrono::seconds(5);
  });
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  append_and_wait(c, follower, "warm");  // the follower's session is open
  const auto follower_id = c.id(follower);
  c.drop_if([&](const transport::Packet& p) {  // nothing reaches the follower any more
    return transport::recipient(p) == follower_id;
  });
  const auto id = c.perform(follower, "append", {"x"}, std::chrono::seconds(60));
  c.tick_all(3);
  REQUIRE(count(c, leader, "x") == 1);
  // The leader's next entry carries a clock past the follower's session:
  // the session ends, then the snapshot covers both its "x" and its end.
  c.jump_wall_clock(60'000);
  append_and_wait(c, leader, "later");
  c.snapshot(leader);
  c.drop_if(nullptr);
  c.tick_all(30);
  REQUIRE(c.engine(follower).raft().snapshot().index > 0);
  REQUIRE(c.done(id));
  REQUIRE_MESSAGE(c.done(id)->error, "the perform ran again in a new session");
  CHECK(c.error_of(id) == errc::outcome_unknown);
  c.tick_all(10);
  for (std::size_t i = 0; i < 3; ++i) CHECK(count(c, i, "x") == 1);
  // The node opens a new session for what it performs next.
  const auto next = c.perform(follower, "append", {"y"});
  c.tick_all(10);
  REQUIRE(c.done(next));
  CHECK_FALSE(c.done(next)->error);
  for (std::size_t i = 0; i < 3; ++i) CHECK(count(c, i, "y") == 1);
}

TEST_CASE(
    "sessions: refusals whose text is not UTF-8 are recorded alike on every replica, and "
    "snapshots holding them read back") {
  EngineCluster c(3, [](Options& options) { options.snapshot.trailing_entries = 0; });
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  const auto behind = (leader + 2) % 3;
  append_and_wait(c, follower, "warm");
  c.isolate(behind);
  const auto refused = c.perform(follower, "refuse_cut", {});
  c.tick_all(5);
  CHECK(c.error_of(refused) == errc::method_failed);
  const auto poisoned = c.perform(follower, "poison_cut", {});
  c.tick_all(5);
  CHECK(c.error_of(poisoned) == errc::reducer_failed);
  // Followers decode the entries that record them, so the session goes on
  // alike everywhere: a divergence would show in the next action.
  const auto after = c.perform(follower, "append", {"after"});
  c.tick_all(5);
  REQUIRE(c.done(after));
  CHECK_FALSE(c.done(after)->error);
  c.snapshot(leader);  // `behind` catches up from it
  c.isolate(behind, false);
  c.tick_all(30);
  REQUIRE(c.engine(behind).raft().snapshot().index > 0);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(c.engine(i).state() == value(array{"warm", "after"}));
  }
}
