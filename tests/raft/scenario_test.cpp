// Ports of the Raft scenarios of the original JavaScript Conflux's test
// suites, run on several cores with the synchronous harness. Wall-clock bounds of the original
// ("within 5 s") are expressed in election timeouts: a round ticks every node once.
#include <doctest/doctest.h>

#include "raft/test_cluster.hpp"

using namespace conflux::raft;
using namespace conflux::raft::testing;

namespace {

const std::vector<NodeId> abc{"a", "b", "c"};
const std::vector<NodeId> five{"n1", "n2", "n3", "n4", "n5"};

/// Ticks every node round after round until a leader other than `not_this`
/// leads; at most `max_rounds` rounds.
std::optional<NodeId> run_until_leader(Cluster& c, int max_rounds, const NodeId& not_this = "") {
  for (int round = 0; round < max_rounds; ++round) {
    c.tick_all();
    if (auto leader = c.leader(); leader && *leader != not_this) return leader;
  }
  return std::nullopt;
}

/// The replies `node` received since the first `from` messages were delivered.
template <typename Body>
std::vector<Message> replies_to(const Cluster& c, const NodeId& node, std::size_t from) {
  std::vector<Message> out;
  for (std::size_t i = from; i < c.delivered().size(); ++i) {
    const Message& m = c.delivered()[i];
    if (m.to == node && std::holds_alternative<Body>(m.body)) out.push_back(m);
  }
  return out;
}

}  // namespace

TEST_CASE("a vote request with a stale term is refused, and the reply carries the newer term") {
  Cluster c(abc, [](Config& config) { config.pre_vote = false; });
  for (const char* id : {"b", "c"}) c.load(id, HardState{.term = 5, .vote = "", .commit = 0}, {});
  while (c.raft("a").role() != Role::candidate) c.tick("a");
  REQUIRE(c.raft("a").term() < 5);

  c.deliver();
  const auto replies = replies_to<VoteResponse>(c, "a", 0);
  REQUIRE(replies.size() == 2);
  for (const auto& reply : replies) {
    CHECK(reply.term == 5);
    CHECK_FALSE(std::get<VoteResponse>(reply.body).granted);
  }
  CHECK(c.raft("a").role() == Role::follower);  // the candidate learnt the newer term
  CHECK(c.raft("a").term() == 5);
  for (const char* id : {"b", "c"}) CHECK(c.raft(id).status().vote.empty());
}

TEST_CASE(
    "a heartbeat from a stale leader is refused; the reply carries the newer term and the stale "
    "leader steps down") {
  // Without check-quorum, an isolated leader keeps believing it leads.
  Cluster c(abc, [](Config& config) { config.check_quorum = false; });
  REQUIRE(c.elect("a"));
  const Term old_term = c.raft("a").term();
  c.isolate("a");
  const auto new_leader = run_until_leader(c, 200, "a");
  REQUIRE(new_leader);
  REQUIRE(c.raft("a").role() == Role::leader);  // stale, and unaware of it
  const Term new_term = c.raft(*new_leader).term();
  REQUIRE(new_term > old_term);

  c.heal();
  const std::size_t before = c.delivered().size();
  c.tick("a");  // its next heartbeat, in the old term
  c.deliver();
  const auto replies = replies_to<AppendResponse>(c, "a", before);
  REQUIRE(replies.size() == 2);
  for (const auto& reply : replies) {
    CHECK(reply.term == new_term);
    CHECK_FALSE(std::get<AppendResponse>(reply.body).success);
  }
  CHECK(c.raft("a").role() == Role::follower);
  CHECK(c.raft("a").term() == new_term);
  CHECK(c.raft(*new_leader).role() == Role::leader);
}

TEST_CASE(
    "a follower holding an extra entry from an older term loses it once the leader replicates") {
  Cluster c(abc);
  REQUIRE(c.elect("a"));
  REQUIRE(c.propose("a", "committed").accepted);
  c.deliver();

  // a, cut off, still appends an entry no one else will ever store.
  c.isolate("a");
  const ProposeResult lost = c.propose("a", "lost");
  REQUIRE(lost.accepted);
  const auto leader = run_until_leader(c, 200, "a");
  REQUIRE(leader);
  REQUIRE(c.propose(*leader, "kept").accepted);
  c.deliver();

  c.heal();
  c.tick_all(5);
  REQUIRE(c.leader() == leader);
  CHECK(c.raft("a").role() == Role::follower);
  CHECK(c.raft("a").log().term_at(lost.index) != lost.term);  // overwritten
  CHECK(terms_of(c.raft("a").log()) == terms_of(c.raft(*leader).log()));
  for (const NodeId& id : abc) {
    CAPTURE(id);
    CHECK(c.applied_payloads(id) == std::vector<std::string>{"committed", "kept"});
  }
}

TEST_CASE("a follower whose log was wiped catches up") {
  Cluster c(abc);
  REQUIRE(c.elect("a"));
  for (const char* payload : {"foo", "bar"}) REQUIRE(c.propose("a", payload).accepted);
  c.deliver();

  c.wipe("c");  // restarted with empty storage
  REQUIRE(c.raft("c").log().last_index() == 0);
  c.tick("a");  // the leader's next heartbeat finds the hole
  c.deliver();
  CHECK(terms_of(c.raft("c").log()) == terms_of(c.raft("a").log()));
  CHECK(c.storage("c").last_index() == c.raft("a").log().last_index());
  CHECK(c.applied_payloads("c") == std::vector<std::string>{"foo", "bar"});
}

TEST_CASE("5 nodes agree on one leader") {
  for (std::uint64_t base = 0; base < 10; ++base) {
    CAPTURE(base);
    Cluster c(five, [base](Config& config) { config.seed = base * 100 + config.id.back(); });
    // The original waited 5 s with timeouts of 300-500 ms: ten timeouts.
    const auto leader = run_until_leader(c, 10 * 20);
    REQUIRE(leader);
    c.tick_all(3);
    CHECK(c.leader() == leader);
    int leaders = 0;
    for (const NodeId& id : five) {
      CAPTURE(id);
      leaders += c.raft(id).role() == Role::leader ? 1 : 0;
      CHECK(c.raft(id).leader() == *leader);
      CHECK(c.raft(id).term() == c.raft(*leader).term());
    }
    CHECK(leaders == 1);
  }
}

TEST_CASE("the leader is isolated: a new leader is elected and writes continue") {
  Cluster c(five);
  const auto old_leader = run_until_leader(c, 200);
  REQUIRE(old_leader);
  REQUIRE(c.propose(*old_leader, "foo").accepted);
  c.deliver();

  c.isolate(*old_leader);
  const auto new_leader = run_until_leader(c, 10 * 20, *old_leader);
  REQUIRE(new_leader);
  REQUIRE(c.propose(*new_leader, "bar").accepted);
  c.deliver();
  for (const NodeId& id : five) {
    if (id == *old_leader) continue;
    CAPTURE(id);
    CHECK(c.applied_payloads(id) == std::vector<std::string>{"foo", "bar"});
  }

  c.heal();
  c.tick_all(5);
  CHECK(c.raft(*old_leader).role() == Role::follower);
  CHECK(c.raft(*old_leader).leader() == *new_leader);
  CHECK(c.applied_payloads(*old_leader) == std::vector<std::string>{"foo", "bar"});
}
