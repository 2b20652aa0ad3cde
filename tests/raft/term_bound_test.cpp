// The bounds on terms (types.hpp: max_term, max_term_jump). Raft §5.1 has a
// node adopt any higher term it sees; on a wire whose integers stop at
// 2^53-1, one hostile or corrupt message at the top term would leave no
// term to campaign in, and the cluster would never elect a leader again.
#include <doctest/doctest.h>

#include <stdexcept>

#include "raft/test_cluster.hpp"

using namespace conflux::raft;
using namespace conflux::raft::testing;

namespace {

const std::vector<NodeId> abc{"a", "b", "c"};

/// A cluster in which "a" leads, every node has applied its no-op, and the
/// followers have heard from it.
Cluster led_by_a() {
  Cluster c(abc);
  REQUIRE(c.elect("a"));
  c.tick("a");
  c.deliver();
  return c;
}

}  // namespace

TEST_CASE("a message whose term is unusable is refused, and the cluster keeps its leader") {
  struct Case {
    std::string what;
    Term term;
  };
  const Case cases[] = {
      {"the wire's maximum, 2^53-1", max_wire_integer},
      {"the largest usable term, but far ahead", max_term},
      {"one beyond the allowed jump", 1 + max_term_jump + 1},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    Cluster c = led_by_a();
    const Term term = c.raft("a").term();
    REQUIRE(term == 1);
    // A heartbeat and a vote request, "from" a peer that passed the handshake.
    for (const Message& hostile :
         {msg("b", "c", k.term, append(c.raft("c").log().last_index(), 1)),
          msg("b", "c", k.term, vote(10, 1)), msg("c", "a", k.term, ack(1))}) {
      const StepResult result = c.step(hostile);
      CHECK(to_string(result.error) == "term_too_large");
      CHECK(result.reason.find(std::to_string(k.term)) != std::string::npos);
    }
    c.tick_all(3 * 20);
    CHECK(c.leader() == NodeId("a"));
    for (const NodeId& id : abc) CHECK(c.raft(id).term() == term);
    CHECK(c.propose("a", "after").accepted);
    c.tick_all(2);
    CHECK(c.applied_payloads("c") == std::vector<std::string>{"after"});
  }
}

TEST_CASE("a term within the allowed jump is adopted (Raft §5.1), and the cluster recovers") {
  Cluster c = led_by_a();
  const Term ahead = 1 + max_term_jump;
  CHECK(c.step(msg("b", "c", ahead, append(0, 0))).ok());
  CHECK(c.raft("c").term() == ahead);
  for (int round = 0; round < 100 && !(c.leader() && c.raft(*c.leader()).term() > ahead); ++round) {
    c.tick_all();
  }
  REQUIRE(c.leader());
  CHECK(c.raft(*c.leader()).term() > ahead);
}

TEST_CASE("a node at the largest usable term never campaigns, and never sends a larger term") {
  Cluster c(abc);
  c.load("b", HardState{.term = max_term, .vote = "", .commit = 0}, {});
  c.tick("b", 5 * 20);
  CHECK(c.raft("b").role() == Role::follower);
  CHECK(c.raft("b").term() == max_term);
  for (const Message& m : c.take_sent()) CHECK(m.term <= max_term);
}

TEST_CASE("a lone voter restored at the largest usable term does not campaign past it") {
  Cluster c({"a"});
  c.load("a", HardState{.term = max_term, .vote = "", .commit = 0}, {});
  c.tick("a", 100);
  CHECK(c.raft("a").term() == max_term);
  CHECK(c.raft("a").role() == Role::follower);
}

TEST_CASE("restoring a hard state beyond the largest usable term is a clear startup error") {
  MemoryStorage storage;
  storage.save_hard_state(HardState{.term = max_term + 1, .vote = "", .commit = 0});
  const Config config{.id = "b", .voters = abc, .seed = 1};
  CHECK_THROWS_WITH_AS(Raft(config, storage),
                       doctest::Contains("exceeds the largest usable term 9007199254740990"),
                       std::invalid_argument);
}

TEST_CASE("restoring entries of a later term than the stored term is a startup error") {
  MemoryStorage storage;
  storage.save_hard_state(HardState{.term = 1, .vote = "", .commit = 0});
  storage.append(entries_with_terms({1, 2}));
  const Config config{.id = "b", .voters = abc, .seed = 1};
  CHECK_THROWS_WITH_AS(Raft(config, storage), doctest::Contains("beyond the stored term 1"),
                       std::invalid_argument);
}

TEST_CASE("a candidate at the largest usable term falls back to follower, never past it") {
  Cluster c(abc);
  c.load("b", HardState{.term = max_term - 1, .vote = "", .commit = 0}, {});
  for (int i = 0; i < 3 * 20 && c.raft("b").role() == Role::follower; ++i) c.tick("b");
  REQUIRE(c.raft("b").role() == Role::pre_candidate);
  for (const Message& m : c.take_sent()) {  // grant the pre-votes, then answer nothing
    if (auto* request = std::get_if<VoteRequest>(&m.body)) {
      c.step(
          msg(m.to, m.from, m.term, VoteResponse{.pre_vote = request->pre_vote, .granted = true}));
    }
  }
  REQUIRE(c.raft("b").role() == Role::candidate);
  REQUIRE(c.raft("b").term() == max_term);
  c.take_sent();
  c.tick("b", 3 * 20);
  CHECK(c.raft("b").role() == Role::follower);
  CHECK(c.raft("b").term() == max_term);
  for (const Message& m : c.take_sent()) CHECK(m.term <= max_term);
}
