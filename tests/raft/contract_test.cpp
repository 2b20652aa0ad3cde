// The core's contract with its driver (raft.hpp, ready.hpp): refused
// messages change nothing; durability comes before acknowledgement; the
// Ready/advance protocol.
#include <doctest/doctest.h>

#include <stdexcept>

#include "raft/test_cluster.hpp"

using namespace conflux::raft;
using namespace conflux::raft::testing;

namespace {

const std::vector<NodeId> abc{"a", "b", "c"};

}  // namespace

TEST_CASE(
    "messages from no sender or itself / wrong recipient / malformed entries are refused with a "
    "reason "
    "and change nothing") {
  struct Case {
    std::string what;
    Message message;
    StepError error;
  };
  // Node b holds terms [1, 1] in term 2. Every message below has term 3: had
  // it been accepted, b's term at least would have changed.
  const Index too_big = max_wire_integer + 1;
  const Case cases[] = {
      {"no sender", msg("", "b", 3, append(2, 1)), StepError::unknown_sender},
      {"the node itself as sender", msg("b", "b", 3, append(2, 1)), StepError::unknown_sender},
      {"another addressee", msg("a", "c", 3, append(2, 1)), StepError::wrong_recipient},
      {"a term beyond 2^53-1", msg("a", "b", too_big, append(2, 1)), StepError::malformed},
      {"the wire's largest term, 2^53-1", msg("a", "b", max_wire_integer, append(2, 1)),
       StepError::term_too_large},
      {"a term more than 2^32 ahead", msg("a", "b", 2 + max_term_jump + 1, vote(2, 1)),
       StepError::term_too_large},
      {"prev_log_term beyond the term", msg("a", "b", 3, append(2, 4)), StepError::malformed},
      {"a gap before the entries", msg("a", "b", 3, append(2, 1, entries_with_terms({3}, 4))),
       StepError::malformed},
      {"an entry of a later term than the message",
       msg("a", "b", 3, append(2, 1, entries_with_terms({4}, 3))), StepError::malformed},
      {"entry terms going down", msg("a", "b", 3, append(2, 1, entries_with_terms({2, 1}, 3))),
       StepError::malformed},
      {"an entry index beyond 2^53-1",
       msg("a", "b", 3, append(max_wire_integer, 1, entries_with_terms({3}, too_big))),
       StepError::malformed},
      {"a leader commit beyond 2^53-1", msg("a", "b", 3, append(2, 1, {}, too_big)),
       StepError::malformed},
      {"a vote request whose last log term is beyond its term", msg("a", "b", 3, vote(2, 4)),
       StepError::malformed},
      {"a vote request whose last log index is beyond 2^53-1", msg("a", "b", 3, vote(too_big, 1)),
       StepError::malformed},
      {"an append response with an index beyond 2^53-1", msg("a", "b", 3, ack(too_big)),
       StepError::malformed},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    Cluster c(abc);
    c.load("b", HardState{.term = 2, .vote = "", .commit = 1}, entries_with_terms({1, 1}));
    const Observable before = observe(c.raft("b"));
    const StepResult result = c.raft("b").step(k.message);
    CHECK(to_string(result.error) == to_string(k.error));
    CHECK_FALSE(result.reason.empty());
    CHECK(observe(c.raft("b")) == before);
    CHECK_FALSE(c.raft("b").has_ready());
  }
}

TEST_CASE(
    "only a leader's AppendEntries may leave before the Ready's writes are durable; votes, "
    "vote requests and acknowledgements wait (thesis §10.2.1; Raft §5, Figure 2)") {
  Cluster c(abc);
  Raft& b = c.raft("b");
  b.step(msg("a", "b", 1, vote(0, 0)));
  Ready granted = b.ready();
  CHECK(granted.early_messages.empty());
  CHECK(bodies_of<VoteResponse>(granted.messages).size() == 1);
  b.advance(granted);

  b.step(msg("a", "b", 1, append(0, 0, entries_with_terms({1}))));
  Ready acked = b.ready();
  CHECK(acked.early_messages.empty());
  CHECK(bodies_of<AppendResponse>(acked.messages).size() == 1);
  b.advance(acked);

  Raft& c_node = c.raft("c");
  for (int i = 0; i < 3 * 20 && c_node.role() == Role::follower; ++i) c_node.tick();
  Ready campaign = c_node.ready();
  CHECK(campaign.early_messages.empty());
  CHECK(bodies_of<VoteRequest>(campaign.messages).size() == 2);
  c_node.advance(campaign);

  Cluster d(abc);
  REQUIRE(d.elect("a"));
  Raft& a = d.raft("a");
  a.propose(Payload("x"));
  const Ready leading = a.ready();
  REQUIRE(leading.entries.size() == 1);
  CHECK(bodies_of<AppendRequest>(leading.early_messages).size() == 2);
  CHECK(bodies_of<AppendRequest>(leading.messages).empty());
}

TEST_CASE("the leader counts itself only after its entries are persisted (advance)") {
  Cluster c(abc);
  REQUIRE(c.elect("a"));
  Raft& a = c.raft("a");
  const Index index = a.propose(Payload("x")).index;
  const Ready ready = a.ready();  // the entry is handed out for persisting...
  REQUIRE(ready.entries.size() == 1);

  a.step(msg("b", "a", a.term(), ack(index)));  // ...b stores it: 2 of 3 copies, one not durable
  CHECK(a.commit() < index);
  a.advance(ready);  // the leader's copy is now durable
  CHECK(a.commit() == index);
}

TEST_CASE("ready(): messages only after their hard state/entries; advance() in order") {
  Cluster c(abc);
  Raft& b = c.raft("b");

  SUBCASE("a vote is handed out with the hard state that records it") {
    b.step(msg("a", "b", 1, vote(0, 0)));
    const Ready ready = b.ready();
    CHECK(ready.hard_state == HardState{.term = 1, .vote = "a", .commit = 0});
    CHECK(bodies_of<VoteResponse>(ready.messages) ==
          std::vector{VoteResponse{.pre_vote = false, .granted = true}});
  }
  SUBCASE("an acknowledgement is handed out with the entries it acknowledges") {
    b.step(msg("a", "b", 1, append(0, 0, entries_with_terms({1, 1}))));
    const Ready ready = b.ready();
    CHECK(ready.entries == entries_with_terms({1, 1}));
    const auto responses = bodies_of<AppendResponse>(ready.messages);
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].match_index == 2);
  }
  SUBCASE("a Ready taken before the last one advanced carries only what is new") {
    b.step(msg("a", "b", 1, vote(0, 0)));
    const Ready first = b.ready();
    CHECK_FALSE(b.has_ready());
    b.step(msg("c", "b", 2, vote(0, 0)));
    REQUIRE(b.has_ready());
    const Ready second = b.ready();
    CHECK(second.hard_state == HardState{.term = 2, .vote = "c", .commit = 0});
    REQUIRE(second.messages.size() == 1);
    CHECK(second.messages[0].to == "c");
    b.advance(first);
    b.advance(second);
    CHECK_FALSE(b.has_ready());
  }
  SUBCASE("a tail overwritten while its write is in flight is written again") {
    b.step(msg("a", "b", 1, append(0, 0, entries_with_terms({1, 1}))));
    const Ready first = b.ready();
    REQUIRE(first.entries == entries_with_terms({1, 1}));
    b.step(msg("c", "b", 2, append(1, 1, entries_with_terms({2}, 2))));  // §5.3: entry 2 differs
    const Ready second = b.ready();
    CHECK(second.entries == entries_with_terms({2}, 2));
    b.advance(first);
    b.advance(second);
    CHECK_FALSE(b.has_ready());
  }
  SUBCASE("advance() without an outstanding Ready throws") {
    CHECK_THROWS_AS(b.advance(Ready{}), std::logic_error);
  }
}

// Several writes in flight (ready.hpp, "Pipelining"): the leader counts its
// own copy of an entry only once the Ready holding it advanced, and a
// committed entry is handed out to apply once.
TEST_CASE("pipelined Readys: the leader's copy counts as each advances; each entry applies once") {
  Cluster c(abc);
  REQUIRE(c.elect("a"));
  Raft& a = c.raft("a");
  const Index x = a.propose(Payload("x")).index;
  const Ready first = a.ready();
  const Index y = a.propose(Payload("y")).index;
  const Ready second = a.ready();
  REQUIRE(first.entries.size() == 1);
  REQUIRE(second.entries.size() == 1);
  CHECK(second.entries[0].index == y);

  a.step(msg("b", "a", a.term(), ack(y)));  // b holds both; a's copies are not durable yet
  CHECK(a.commit() < x);
  a.advance(first);
  CHECK(a.commit() == x);
  a.advance(second);
  CHECK(a.commit() == y);

  const Ready third = a.ready();
  REQUIRE_FALSE(third.committed.empty());
  CHECK(third.committed.back().index == y);
  const Index z = a.propose(Payload("z")).index;
  const Ready fourth = a.ready();  // before third advanced: x and y are not handed out again
  CHECK(fourth.committed.empty());
  REQUIRE(fourth.entries.size() == 1);
  CHECK(fourth.entries[0].index == z);
  a.advance(third);
  a.advance(fourth);
  CHECK(a.status().applied == y);
}

TEST_CASE("committed entries reach the application in order, and again after a restart") {
  Cluster c(abc);
  REQUIRE(c.elect("a"));
  for (const char* payload : {"foo", "bar"}) REQUIRE(c.propose("a", payload).accepted);
  c.deliver();
  c.tick("a");  // the heartbeat tells the followers the final commit index
  c.deliver();
  for (const NodeId& id : abc)
    CHECK(c.applied_payloads(id) == std::vector<std::string>{"foo", "bar"});

  c.restart("b");
  CHECK(c.applied_payloads("b") == std::vector<std::string>{"foo", "bar"});
  CHECK(c.raft("b").status().applied == c.raft("b").commit());
}

// A lone voter leads without a vote round, so nothing made its new term
// durable before its first AppendEntries: they wait for the Ready that
// records the term, where a leader elected by votes lets them out early.
TEST_CASE("a lone voter's appends in a new term wait until the term is durable") {
  MemoryStorage storage;
  const Config config{.id = "a", .voters = {"a"}, .seed = 1};
  const auto carry_out = [&](Raft& raft) {
    while (raft.has_ready()) {
      const Ready ready = raft.ready();
      if (ready.hard_state) storage.save_hard_state(*ready.hard_state);
      storage.append(ready.entries);
      raft.advance(ready);
    }
  };
  {
    Raft a(config, storage);
    REQUIRE(a.role() == Role::leader);
    carry_out(a);
    const MembershipChange learner{
        .kind = MembershipChange::Kind::add_learner, .id = "d", .address = {}};
    REQUIRE(a.change_membership({learner}).accepted);
    carry_out(a);
    REQUIRE(a.configuration().learners == std::vector<NodeId>{"d"});
  }
  Raft a(config, storage);  // restarted: it leads at once, in a new term
  REQUIRE(a.role() == Role::leader);
  const Ready ready = a.ready();
  REQUIRE(ready.hard_state);
  CHECK(ready.hard_state->term == a.term());
  CHECK(bodies_of<AppendRequest>(ready.early_messages).empty());
  CHECK_FALSE(bodies_of<AppendRequest>(ready.messages).empty());
}
