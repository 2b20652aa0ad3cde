// Linearizable reads by ReadIndex (thesis §6.4), one rule per test.
#include <doctest/doctest.h>

#include "raft/test_cluster.hpp"

using namespace conflux::raft;
using namespace conflux::raft::testing;

namespace {

/// "a" leads a, b, c and has committed its first entry and one more.
Cluster led_by_a() {
  Cluster c({"a", "b", "c"});
  REQUIRE(c.elect("a"));
  REQUIRE(c.propose("a", "x").accepted);
  c.deliver();
  REQUIRE(c.raft("a").commit() == 2);
  return c;
}

std::size_t count_appends(const std::vector<Message>& messages) {
  return bodies_of<AppendRequest>(messages).size();
}

}  // namespace

TEST_CASE("thesis §6.4: a leader serves a read at its commit index once a quorum answers a round") {
  auto c = led_by_a();
  c.raft("a").read_index(7);
  c.process("a");
  CHECK(c.reads("a").empty());  // not before the round is answered
  const auto sent = c.queued();
  CHECK(count_appends(sent) == 2);  // one heartbeat per follower, at once
  for (const auto& request : bodies_of<AppendRequest>(sent)) CHECK(request.round >= 1);
  c.deliver();
  REQUIRE(c.reads("a").size() == 1);
  CHECK(c.reads("a")[0] == ReadState{7, 2});
}

TEST_CASE("thesis §6.4: reads that arrive together share one round") {
  auto c = led_by_a();
  for (std::uint64_t id = 1; id <= 5; ++id) c.raft("a").read_index(id);
  c.process("a");
  CHECK(count_appends(c.queued()) == 2);
  c.deliver();
  CHECK(c.reads("a").size() == 5);
}

TEST_CASE("reads that arrive while a round is out wait for the next, sent once it is answered") {
  auto c = led_by_a();
  c.raft("a").read_index(1);
  c.process("a");
  const auto first_round = c.take_sent();
  REQUIRE(count_appends(first_round) == 2);
  c.raft("a").read_index(2);
  c.raft("a").read_index(3);
  c.process("a");
  CHECK(count_appends(c.queued()) == 0);  // no round of their own yet
  for (const auto& m : first_round) c.step(m);
  for (const auto& m : c.take_sent()) c.step(m);  // the answers: read 1 is served...
  REQUIRE(c.reads("a").size() == 1);
  CHECK(c.reads("a")[0].id == 1);
  CHECK(count_appends(c.queued()) == 2);  // ...and one round goes out for 2 and 3
  c.deliver();
  CHECK(c.reads("a").size() == 3);
}

TEST_CASE("thesis §6.4: an answer to a message sent before the read confirms nothing") {
  auto c = led_by_a();
  std::vector<Message> before;
  for (int i = 0; i < 10 && before.empty(); ++i) {
    c.tick("a");  // a heartbeat round goes out...
    before = c.take_sent();
  }
  REQUIRE(count_appends(before) == 2);
  c.raft("a").read_index(1);  // ...then the read arrives
  c.process("a");
  c.take_sent();  // the read's own round is lost
  for (const auto& m : before) c.step(m);
  for (const auto& m : c.take_sent()) c.step(m);  // the followers' answers to the old round
  CHECK(c.reads("a").empty());
}

TEST_CASE("thesis §6.4: an answer claiming a round never sent confirms nothing") {
  auto c = led_by_a();
  c.raft("a").read_index(1);
  c.process("a");
  c.take_sent();
  auto forged = ack(2);
  forged.round = max_wire_integer;
  c.step(msg("b", "a", c.raft("a").term(), forged));
  CHECK(c.reads("a").empty());
}

TEST_CASE("thesis §6.4: a new leader serves no read before it commits an entry of its term") {
  Cluster c({"a", "b", "c"});
  REQUIRE(c.elect_by_hand("a"));  // its first AppendEntries were dropped
  REQUIRE(c.raft("a").commit() == 0);
  c.raft("a").read_index(1);
  c.process("a");
  CHECK(c.reads("a").empty());
  c.tick_all(1);  // its entry commits, then the read's round runs
  REQUIRE(c.reads("a").size() == 1);
  CHECK(c.reads("a")[0].index == c.raft("a").commit());
  CHECK(c.reads("a")[0].index >= 1);
}

TEST_CASE("thesis §6.4: a leader cut off from the quorum never answers a read") {
  auto c = led_by_a();
  c.isolate("a");
  c.raft("a").read_index(1);
  c.process("a");
  for (int i = 0; i < 40 && c.raft("a").role() == Role::leader; ++i) c.tick_all(1);
  CHECK(c.raft("a").role() == Role::follower);  // check-quorum deposed it
  REQUIRE(c.reads("a").size() == 1);
  CHECK(c.reads("a")[0] == ReadState{1, 0});  // refused, never served
}

TEST_CASE("thesis §6.4: on a follower, the read index comes from the leader") {
  auto c = led_by_a();
  c.raft("b").read_index(3);
  c.process("b");
  const auto asked = bodies_of<ReadIndexRequest>(c.queued(), "a");
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].id == 3);
  c.deliver();
  REQUIRE(c.reads("b").size() == 1);
  CHECK(c.reads("b")[0] == ReadState{3, c.raft("a").commit()});
  CHECK(c.reads("a").empty());  // the leader's own reads are apart
}

TEST_CASE("a follower's read is refused when its leader changes before answering") {
  auto c = led_by_a();
  c.drop_if([](const Message& m) { return std::holds_alternative<ReadIndexResponse>(m.body); });
  c.raft("b").read_index(3);
  c.deliver();
  CHECK(c.reads("b").empty());
  c.isolate("a");
  for (int i = 0; i < 60 && c.raft("b").leader() == "a"; ++i) c.tick_all(1);
  REQUIRE(c.reads("b").size() == 1);
  CHECK(c.reads("b")[0] == ReadState{3, 0});
}

TEST_CASE("a follower's read whose answer is lost is refused after an election timeout") {
  auto c = led_by_a();
  c.drop_if([](const Message& m) { return std::holds_alternative<ReadIndexResponse>(m.body); });
  c.raft("b").read_index(3);
  c.deliver();
  const int timeout = c.raft("b").config().election_ticks_min;
  c.tick_all(timeout - 1);
  CHECK(c.reads("b").empty());
  c.tick_all(1);
  REQUIRE(c.reads("b").size() == 1);
  CHECK(c.reads("b")[0] == ReadState{3, 0});  // asked again by the driver
  CHECK(c.raft("b").leader() == "a");         // the leader never changed
}

TEST_CASE("a read with no leader known is refused at once; a lone voter confirms alone") {
  Cluster c({"a", "b", "c"});
  c.raft("a").read_index(1);
  c.process("a");
  REQUIRE(c.reads("a").size() == 1);
  CHECK(c.reads("a")[0] == ReadState{1, 0});

  Cluster alone({"a"});
  alone.process_all();  // a lone voter leads at once; its entry commits
  REQUIRE(alone.raft("a").role() == Role::leader);
  alone.raft("a").read_index(2);
  alone.process("a");
  REQUIRE(alone.reads("a").size() == 1);
  CHECK(alone.reads("a")[0] == ReadState{2, alone.raft("a").commit()});
}

// ------------------------------------------------ lease reads (thesis §6.4.1)

namespace {

constexpr int lease = 8;  // below the election timeout of 10 ticks

void with_lease(Config& config) {
  config.election_ticks_min = 10;
  config.election_ticks_max = 10;
  config.lease_ticks = lease;
}

/// "a" leads with a lease: its round sent at the last tick was answered.
Cluster leased_by_a() {
  Cluster c({"a", "b", "c"}, with_lease);
  REQUIRE(c.elect("a"));
  c.tick_all(1);  // a heartbeat round, answered by both followers
  REQUIRE(c.raft("a").commit() >= 1);
  return c;
}

}  // namespace

TEST_CASE("thesis §6.4.1: a leader holding a lease answers a read with no round of its own") {
  auto c = leased_by_a();
  c.raft("a").read_index(1);
  c.process("a");
  REQUIRE(c.reads("a").size() == 1);
  CHECK(c.reads("a")[0] == ReadState{1, c.raft("a").commit()});
  CHECK(count_appends(c.queued()) == 0);

  c.raft("b").read_index(2);  // a follower's read: the leader answers at once too
  c.deliver();
  REQUIRE(c.reads("b").size() == 1);
  CHECK(c.reads("b")[0] == ReadState{2, c.raft("a").commit()});
}

TEST_CASE("thesis §6.4.1: the lease runs from when the confirmed round was sent, not answered") {
  auto c = leased_by_a();
  c.tick("a", lease);  // every round lost: the lease lapses
  c.take_sent();
  c.raft("a").read_index(1);
  c.process("a");
  REQUIRE(c.reads("a").empty());
  c.take_sent();  // read 1's round is lost too
  c.tick("a");
  const auto round = c.take_sent();  // sent now, answered `lease - 1` ticks later
  REQUIRE(count_appends(round) == 2);
  c.tick("a", lease - 1);
  c.take_sent();
  for (const auto& m : round) c.step(m);
  for (const auto& m : c.take_sent()) c.step(m);  // a quorum answered: read 1 is served
  c.raft("a").read_index(2);
  c.process("a");
  REQUIRE(c.reads("a").size() == 2);  // the lease holds for the rest of its last tick
  CHECK(c.reads("a")[1] == ReadState{2, c.raft("a").commit()});
  c.take_sent();
  c.tick("a");
  c.take_sent();
  c.raft("a").read_index(3);
  c.process("a");
  CHECK(c.reads("a").size() == 2);  // expired: read 3 waits for a round
}

TEST_CASE("thesis §6.4.1: the lease ends before the leader's followers may elect another") {
  auto c = leased_by_a();
  c.isolate("a");
  const auto term = c.raft("a").term();
  int elected_at = 0;
  for (int t = 1; t <= 40 && elected_at == 0; ++t) {
    c.tick_all(1);
    if (c.raft("b").term() > term && c.leader() != "a") elected_at = t;
  }
  REQUIRE(elected_at > 0);
  CHECK(elected_at > lease);  // b and c kept refusing votes until after the lease
}

TEST_CASE("thesis §6.4.1: a leader that sent TimeoutNow holds no lease for the rest of its term") {
  auto c = leased_by_a();
  c.drop_if([](const Message& m) { return std::holds_alternative<TimeoutNow>(m.body); });
  REQUIRE(c.raft("a").transfer_leadership("b").accepted);
  c.deliver();
  const int timeout = c.raft("a").config().election_ticks_min;
  c.tick_all(timeout);  // the transfer is abandoned; heartbeats keep being answered
  REQUIRE(c.raft("a").role() == Role::leader);
  c.raft("a").read_index(1);
  c.process("a");
  CHECK(c.reads("a").empty());  // no lease: the read waits for its round
  CHECK(count_appends(c.queued()) == 2);
  c.deliver();
  CHECK(c.reads("a").size() == 1);
}

TEST_CASE("check-quorum: a node restarted in a term refuses votes for its first election timeout") {
  auto c = leased_by_a();
  c.restart("b");
  const auto term = c.raft("b").term();
  c.step(msg("c", "b", term + 1,
             VoteRequest{.pre_vote = false, .last_log_index = 99, .last_log_term = term}));
  CHECK(c.take_sent().empty());  // it may have answered a's heartbeat just before stopping
  CHECK(c.raft("b").term() == term);
  c.tick("b", c.raft("b").config().election_ticks_min - 1);
  c.take_sent();
  c.step(msg("c", "b", term + 1,
             VoteRequest{.pre_vote = false, .last_log_index = 99, .last_log_term = term}));
  CHECK(c.take_sent().empty());
  c.isolate("b");
  c.tick("b", 1);  // the promise is kept: b answers once its timeout has passed
  c.heal();
  c.take_sent();
  c.step(msg("c", "b", term + 1,
             VoteRequest{.pre_vote = false, .last_log_index = 99, .last_log_term = term}));
  const auto sent = c.take_sent();
  REQUIRE(bodies_of<VoteResponse>(sent).size() == 1);
  CHECK(bodies_of<VoteResponse>(sent)[0].granted);
}

TEST_CASE("a lease needs check-quorum and must end before the election timeout") {
  Config config{.id = "a", .voters = {"a"}};
  config.election_ticks_min = 10;
  config.lease_ticks = 10;
  CHECK(config.validate().size() == 1);
  config.lease_ticks = 9;
  CHECK(config.validate().empty());
  config.check_quorum = false;
  CHECK(config.validate().size() == 1);
}
