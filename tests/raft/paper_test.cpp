// One test per rule of the Raft paper (§5.1-§5.4, §8), in the spirit of
// etcd-io/raft's raft_paper_test.go, plus the quorum and proposal rules the
// original got wrong. Thesis extensions live in thesis_test.cpp and the
// driver contract in contract_test.cpp. Single-core tests drive one node with
// hand-built messages; the others run a few cores through test_cluster.hpp.
#include <doctest/doctest.h>

#include <set>
#include <stdexcept>

#include "raft/test_cluster.hpp"

using namespace conflux::raft;
using namespace conflux::raft::testing;

namespace {

const std::vector<NodeId> abc{"a", "b", "c"};

void fixed_timeout(Config& config) {
  config.election_ticks_min = 10;
  config.election_ticks_max = 10;
}

void no_pre_vote(Config& config) {
  config.pre_vote = false;
}

/// The paper's rules alone, for cases that restart nodes from a given state
/// and ask them to vote at once: with check-quorum (thesis §6.2), a node
/// restarted in a term keeps refusing votes for its first election timeout
/// (election.cpp), which these cases do not wait out.
void paper_only(Config& config) {
  config.check_quorum = false;
}

/// Ticks `id` until its election timeout fires (and no further).
void tick_until_campaign(Cluster& c, const NodeId& id) {
  for (int i = 0; i < 100 && c.raft(id).role() == Role::follower; ++i) c.tick(id);
}

/// The one message the cluster's nodes have sent since the last take.
Message only_sent(Cluster& c) {
  auto sent = c.take_sent();
  REQUIRE(sent.size() == 1);
  return sent.front();
}

}  // namespace

// ---------------------------------------------------------------- §5.1 terms

TEST_CASE("§5.1 a higher term makes a leader step down") {
  Cluster c(abc);
  REQUIRE(c.elect("a"));
  const Term term = c.raft("a").term();

  SUBCASE("on AppendEntries from the leader of a newer term") {
    c.step(msg("b", "a", term + 1, append(0, 0)));
    CHECK(c.raft("a").leader() == "b");
  }
  SUBCASE("on a response that carries a newer term") {
    c.step(msg("c", "a", term + 1, AppendResponse{}));
    CHECK(c.raft("a").leader().empty());
  }
  CHECK(c.raft("a").role() == Role::follower);
  CHECK(c.raft("a").term() == term + 1);
  CHECK(c.storage("a").hard_state().term == term + 1);
}

TEST_CASE("§5.1 a request with a stale term is rejected") {
  Cluster c(abc);
  c.load("b", HardState{.term = 5, .vote = "", .commit = 0}, entries_with_terms({1, 1}));
  const Observable before = observe(c.raft("b"));

  SUBCASE("AppendEntries") {
    c.step(msg("a", "b", 4, append(2, 1, entries_with_terms({4}, 3), 3)));
    const Message reply = only_sent(c);
    CHECK(reply.term == 5);
    CHECK_FALSE(std::get<AppendResponse>(reply.body).success);
  }
  SUBCASE("RequestVote") {
    c.step(msg("a", "b", 4, vote(9, 4)));
    const Message reply = only_sent(c);
    CHECK(reply.term == 5);
    CHECK_FALSE(std::get<VoteResponse>(reply.body).granted);
  }
  CHECK(observe(c.raft("b")) == before);
}

// ---------------------------------------------------------- §5.2 elections

TEST_CASE("§5.2 a follower starts a (pre-)election after its election timeout") {
  SUBCASE("with pre-vote: asks about term + 1 without moving to it (thesis §9.6)") {
    Cluster c(abc, fixed_timeout);
    c.tick("a", 9);
    CHECK(c.raft("a").role() == Role::follower);
    CHECK(c.take_sent().empty());
    c.tick("a");
    CHECK(c.raft("a").role() == Role::pre_candidate);
    CHECK(c.raft("a").term() == 0);
    const auto sent = c.take_sent();
    REQUIRE(sent.size() == 2);
    for (const auto& m : sent) {
      CHECK(m.term == 1);
      CHECK(std::get<VoteRequest>(m.body) == vote(0, 0, true));
    }
  }
  SUBCASE("without pre-vote: becomes a candidate of term + 1 and votes for itself") {
    Cluster c(abc, [](Config& config) {
      fixed_timeout(config);
      no_pre_vote(config);
    });
    c.tick("a", 10);
    CHECK(c.raft("a").role() == Role::candidate);
    CHECK(c.storage("a").hard_state() == HardState{.term = 1, .vote = "a", .commit = 0});
    const auto sent = c.take_sent();
    REQUIRE(sent.size() == 2);
    for (const auto& m : sent) CHECK(std::get<VoteRequest>(m.body) == vote(0, 0, false));
  }
  SUBCASE("hearing from the leader restarts the timeout") {
    Cluster c(abc, fixed_timeout);
    c.tick("a", 9);
    c.step(msg("b", "a", 1, append(0, 0)));
    c.tick("a", 9);
    CHECK(c.raft("a").role() == Role::follower);
    CHECK(c.raft("a").leader() == "b");
  }
}

TEST_CASE("§5.2 a candidate that wins a majority becomes leader") {
  const std::vector<NodeId> five{"a", "b", "c", "d", "e"};
  Cluster c(five, no_pre_vote);
  tick_until_campaign(c, "a");
  REQUIRE(c.raft("a").role() == Role::candidate);
  c.take_sent();

  SUBCASE("3 of 5 votes, its own included") {
    c.step(msg("b", "a", 1, VoteResponse{.pre_vote = false, .granted = true}));
    CHECK(c.raft("a").role() == Role::candidate);
    c.step(msg("c", "a", 1, VoteResponse{.pre_vote = false, .granted = true}));
    CHECK(c.raft("a").role() == Role::leader);
    CHECK(c.raft("a").leader() == "a");
    CHECK(bodies_of<AppendRequest>(c.take_sent(), "e").size() ==
          1);  // announces itself to every peer
  }
  SUBCASE("3 refusals of 5 make it a follower of the same term") {
    for (const char* voter : {"b", "c", "d"}) {
      c.step(msg(voter, "a", 1, VoteResponse{.pre_vote = false, .granted = false}));
    }
    CHECK(c.raft("a").role() == Role::follower);
    CHECK(c.raft("a").term() == 1);
  }
}

TEST_CASE(
    "§5.2 (thesis §9.6) a pre-candidate campaigns for real only after a majority of pre-votes") {
  Cluster c(abc, fixed_timeout);
  tick_until_campaign(c, "a");
  REQUIRE(c.raft("a").role() == Role::pre_candidate);
  c.take_sent();
  c.step(msg("b", "a", 1, VoteResponse{.pre_vote = true, .granted = true}));
  CHECK(c.raft("a").role() == Role::candidate);
  CHECK(c.raft("a").term() == 1);
  for (const auto& m : c.take_sent()) CHECK(std::get<VoteRequest>(m.body) == vote(0, 0, false));
}

TEST_CASE("§5.2 a candidate returns to follower when a leader of its term appears") {
  Cluster c(abc, no_pre_vote);
  tick_until_campaign(c, "a");
  REQUIRE(c.raft("a").role() == Role::candidate);
  c.step(msg("b", "a", 1, append(0, 0)));
  CHECK(c.raft("a").role() == Role::follower);
  CHECK(c.raft("a").leader() == "b");
  CHECK(c.raft("a").term() == 1);
}

TEST_CASE("§5.2 a node grants at most one vote per term") {
  Cluster c(abc, paper_only);
  auto granted = [&](const NodeId& candidate, Term term) {
    c.step(msg(candidate, "b", term, vote(0, 0)));
    return std::get<VoteResponse>(only_sent(c).body).granted;
  };
  CHECK(granted("a", 1));
  CHECK_FALSE(granted("c", 1));
  CHECK(granted("a", 1));  // the same candidate again (its reply was lost)
  CHECK(c.storage("b").hard_state().vote == "a");
  c.restart("b");  // the vote survives a restart
  CHECK_FALSE(granted("c", 1));
  CHECK(granted("c", 2));  // a new term, a new vote
}

TEST_CASE("§5.2 election timeouts are randomized within [min,max]") {
  std::set<int> seen;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Cluster c(abc, [seed](Config& config) {
      config.election_ticks_min = 10;
      config.election_ticks_max = 14;
      config.seed = seed;
    });
    for (int campaign = 0; campaign < 2; ++campaign) {  // the first timeout, and the retry
      int ticks = 0;
      do {
        c.tick("a");
        ++ticks;
      } while (c.take_sent().empty() && ticks < 100);
      CAPTURE(seed);
      CHECK(ticks >= 10);
      CHECK(ticks <= 14);
      seen.insert(ticks);
    }
  }
  CHECK(seen == std::set<int>{10, 11, 12, 13, 14});
}

TEST_CASE(
    "§5.2 (thesis §4.2.3) a follower that heard from its leader recently ignores vote requests") {
  Cluster c(abc, fixed_timeout);
  c.step(msg("a", "b", 1, append(0, 0)));
  c.take_sent();
  c.step(msg("c", "b", 2, vote(0, 0)));
  CHECK(c.take_sent().empty());
  CHECK(c.raft("b").term() == 1);
  c.tick("b", 9);  // still within the minimum election timeout of the heartbeat
  c.step(msg("c", "b", 2, vote(0, 0)));
  CHECK(c.take_sent().empty());
  c.tick("b");
  c.step(msg("c", "b", 2, vote(0, 0)));
  const auto sent = c.take_sent();
  CHECK(bodies_of<VoteResponse>(sent) ==
        std::vector{VoteResponse{.pre_vote = false, .granted = true}});
  CHECK(c.raft("b").term() == 2);
}

TEST_CASE("§5.4.1 a vote is refused to a less up-to-date log") {
  struct Case {
    Index last_index;
    Term last_term;
    bool granted;
  };
  // The voter's log has terms [1, 2, 2].
  const Case cases[] = {{5, 1, false}, {2, 2, false}, {3, 2, true}, {9, 2, true}, {1, 3, true}};
  for (const Case& k : cases) {
    for (bool pre_vote : {false, true}) {
      Cluster c(abc, paper_only);
      c.load("b", HardState{.term = 2, .vote = "", .commit = 0}, entries_with_terms({1, 2, 2}));
      c.step(msg("a", "b", 3, vote(k.last_index, k.last_term, pre_vote)));
      CAPTURE(k.last_index);
      CAPTURE(k.last_term);
      CAPTURE(pre_vote);
      CHECK(std::get<VoteResponse>(only_sent(c).body).granted == k.granted);
      CHECK(c.raft("b").status().vote == (k.granted && !pre_vote ? "a" : ""));
    }
  }
}

// -------------------------------------------------------- §5.3 replication

TEST_CASE(
    "§5.3 a follower rejects AppendEntries whose prevLog doesn't match (also for an empty "
    "heartbeat)") {
  struct Case {
    std::string what;
    AppendRequest request;
  };
  // The follower's log has terms [1, 1, 2]; the leader has term 3.
  const Case cases[] = {
      {"entries after a conflicting prev term", append(3, 3, entries_with_terms({3}, 4), 3)},
      {"an empty heartbeat after a conflicting prev term", append(3, 3, {}, 3)},
      {"an empty heartbeat past the follower's last entry", append(5, 2, {}, 3)},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    Cluster c(abc);
    c.load("b", HardState{.term = 2, .vote = "", .commit = 0}, entries_with_terms({1, 1, 2}));
    c.step(msg("a", "b", 3, k.request));
    const auto response = std::get<AppendResponse>(only_sent(c).body);
    CHECK_FALSE(response.success);
    CHECK(response.rejected_index == k.request.prev_log_index);
    CHECK(terms_of(c.raft("b").log()) == std::vector<Term>{1, 1, 2});
    CHECK(c.raft("b").commit() == 0);  // leader_commit is not trusted without a match
  }
}

TEST_CASE("§5.3 a follower truncates at the first conflicting entry and never on a duplicate") {
  Cluster c(abc);
  c.load("b", HardState{.term = 1, .vote = "", .commit = 0}, entries_with_terms({1, 1, 1, 1}));
  Raft& b = c.raft("b");
  const AppendRequest request = append(1, 1, entries_with_terms({1, 2, 2}, 2));

  b.step(msg("a", "b", 2, request));
  const Ready ready = b.ready();
  CHECK(terms_of(b.log()) == std::vector<Term>{1, 1, 2, 2});
  REQUIRE(ready.entries.size() == 2);  // only the replaced suffix is written again
  CHECK(ready.entries.front().index == 3);
  b.advance(ready);
  c.take_sent();

  SUBCASE("the same request again") {
    c.step(msg("a", "b", 2, request));
  }
  SUBCASE("an older, shorter request arriving late") {
    c.step(msg("a", "b", 2, append(1, 1, entries_with_terms({1}, 2))));
    CHECK(std::get<AppendResponse>(only_sent(c).body).match_index == 2);
  }
  CHECK(terms_of(b.log()) == std::vector<Term>{1, 1, 2, 2});
  CHECK(c.storage("b").last_index() == 4);
}

TEST_CASE(
    "§5.3 the rejection carries a conflict-term/index hint and the leader skips back by terms") {
  SUBCASE("follower: the term at prevLogIndex and the first index it holds of that term") {
    Cluster c(abc);
    c.load("b", HardState{.term = 2, .vote = "", .commit = 0}, entries_with_terms({1, 1, 2, 2, 2}));
    c.step(msg("a", "b", 3, append(4, 3)));
    CHECK(std::get<AppendResponse>(only_sent(c).body) == AppendResponse{.success = false,
                                                                        .match_index = 0,
                                                                        .rejected_index = 4,
                                                                        .conflict_index = 3,
                                                                        .conflict_term = 2});
    c.step(msg("a", "b", 3, append(7, 3)));  // past its end: term 0, its last index + 1
    CHECK(std::get<AppendResponse>(only_sent(c).body) == AppendResponse{.success = false,
                                                                        .match_index = 0,
                                                                        .rejected_index = 7,
                                                                        .conflict_index = 6,
                                                                        .conflict_term = 0});
  }
  SUBCASE("leader: one round trip per conflicting term (Raft Figure 7, followers e and f)") {
    Cluster c({"a", "b", "e", "f"}, paper_only);
    const auto leader_log = entries_with_terms({1, 1, 1, 4, 4, 5, 5, 6, 6, 6});
    c.load("a", HardState{.term = 6, .vote = "", .commit = 0}, leader_log);
    c.load("b", HardState{.term = 6, .vote = "", .commit = 0}, leader_log);
    c.load("e", HardState{.term = 4, .vote = "", .commit = 0},
           entries_with_terms({1, 1, 1, 4, 4, 4, 4}));
    c.load("f", HardState{.term = 3, .vote = "", .commit = 0},
           entries_with_terms({1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}));
    REQUIRE(c.elect("a"));

    std::map<NodeId, std::vector<std::pair<Term, Index>>>
        hints;  // (conflict term, index) per follower
    for (const auto& m : c.delivered()) {
      auto* r = std::get_if<AppendResponse>(&m.body);
      if (r && !r->success) hints[m.from].emplace_back(r->conflict_term, r->conflict_index);
    }
    // f: term 3 is unknown to the leader, so skip to f's first term-3 entry;
    // then likewise for term 2. e: past its end; then term 4, which the leader
    // has: resume just after the leader's last term-4 entry.
    CHECK(hints["f"] == std::vector<std::pair<Term, Index>>{{3, 7}, {2, 4}});
    CHECK(hints["e"] == std::vector<std::pair<Term, Index>>{{0, 8}, {4, 4}});
    CHECK(hints.count("b") == 0);
    for (const char* id : {"b", "e", "f"})
      CHECK(terms_of(c.raft(id).log()) == terms_of(c.raft("a").log()));
  }
}

TEST_CASE("§5.3 follower commit = min(leaderCommit, last new entry)") {
  Cluster c(abc);
  SUBCASE("the leader's commit is beyond what this request carries") {
    c.step(msg("a", "b", 1, append(0, 0, entries_with_terms({1, 1}), 5)));
    CHECK(c.raft("b").commit() == 2);
  }
  SUBCASE("the follower's own tail past the request is not yet known to match") {
    c.load("b", HardState{.term = 1, .vote = "", .commit = 0}, entries_with_terms({1, 1, 1, 1, 1}));
    c.step(msg("a", "b", 2, append(2, 1, {}, 4)));
    CHECK(c.raft("b").commit() == 2);
  }
  SUBCASE("the leader's commit is behind, and commit never goes down") {
    c.step(msg("a", "b", 1, append(0, 0, entries_with_terms({1, 1, 1}), 2)));
    CHECK(c.raft("b").commit() == 2);
    c.step(msg("a", "b", 1, append(1, 1, {}, 1)));
    CHECK(c.raft("b").commit() == 2);
  }
  CHECK(c.storage("b").hard_state().commit == c.raft("b").commit());
}

// --------------------------------------------------------- §5.4.2 and §8

TEST_CASE("§5.4.2 the leader never commits a previous-term entry by counting replicas") {
  // Raft Figure 8: s1 led term 2 and wrote index 2 on s1 and s2; s5 led term
  // 3 and wrote its own index 2. Now s1 leads term 4. Index 2 (term 2)
  // reaching a majority (s1, s2, s3) does not make it committed: s5 could
  // still win an election with votes from s2, s3 and s4 and overwrite it.
  const std::vector<NodeId> five{"s1", "s2", "s3", "s4", "s5"};
  Cluster c(five);
  c.load("s1", HardState{.term = 3, .vote = "", .commit = 1}, entries_with_terms({1, 2}));
  REQUIRE(c.elect_by_hand("s1"));
  Raft& s1 = c.raft("s1");
  REQUIRE(s1.term() == 4);
  REQUIRE(s1.log().last_index() == 3);  // the no-op of term 4 (§8)

  c.step(msg("s2", "s1", 4, ack(2)));
  c.step(msg("s3", "s1", 4, ack(2)));
  CHECK(s1.commit() == 1);

  // Once an entry of term 4 is on a majority, s5 can no longer win, and
  // index 2 commits with it by the Log Matching Property.
  c.step(msg("s2", "s1", 4, ack(3)));
  CHECK(s1.commit() == 1);
  c.step(msg("s3", "s1", 4, ack(3)));
  CHECK(s1.commit() == 3);
}

// The first leader of a cluster makes that entry its bootstrap configuration
// (thesis §4.1: from then on the log says who the members are); later
// leaders append a no-op (membership_test.cpp).
TEST_CASE("§8 a new leader appends an entry of its term") {
  Cluster c(abc, paper_only);
  for (const NodeId& id : abc)
    c.load(id, HardState{.term = 1, .vote = "", .commit = 0}, entries_with_terms({1}));
  REQUIRE(c.elect("a"));
  const Raft& a = c.raft("a");
  REQUIRE(a.log().last_index() == 2);
  CHECK(a.log().at(2).type == EntryType::configuration);
  CHECK(a.log().at(2).term == a.term());
  for (const NodeId& id : abc) {
    CAPTURE(id);
    CHECK(c.raft(id).commit() == 2);  // committing it commits the earlier term's entry too
    CHECK(c.applied_payloads(id) == std::vector<std::string>{"e1"});
    CHECK(c.applied(id).size() == 2);
  }
}

// ------------------------------------------------------- quorum and roles

TEST_CASE("quorum is n/2+1: 3-node cluster commits with 2") {
  Cluster c(abc);
  c.isolate("c");
  REQUIRE(c.elect("a"));
  const ProposeResult result = c.propose("a", "x");
  REQUIRE(result.accepted);
  c.deliver();
  CHECK(c.raft("a").commit() == result.index);
  CHECK(c.applied_payloads("a") == std::vector<std::string>{"x"});
  CHECK(c.applied_payloads("b") == std::vector<std::string>{"x"});
  CHECK(c.raft("c").log().last_index() == 0);
}

TEST_CASE("the leader commits once n/2+1 nodes, itself included, store an entry") {
  for (std::size_t n = 2; n <= 6; ++n) {
    CAPTURE(n);
    std::vector<NodeId> ids;
    for (std::size_t i = 1; i <= n; ++i) ids.push_back("n" + std::to_string(i));
    Cluster c(ids);
    REQUIRE(c.elect_by_hand("n1"));
    const Index index = c.raft("n1").log().last_index();
    const Term term = c.raft("n1").term();
    const std::size_t followers_needed = n / 2;  // quorum n/2 + 1, minus the leader
    for (std::size_t i = 1; i < followers_needed; ++i) c.step(msg(ids[i], "n1", term, ack(index)));
    CHECK(c.raft("n1").commit() < index);
    c.step(msg(ids[followers_needed], "n1", term, ack(index)));
    CHECK(c.raft("n1").commit() == index);
  }
}

TEST_CASE("a one-node cluster elects itself at once and commits alone") {
  Cluster c({"solo"});
  REQUIRE(c.raft("solo").role() == Role::leader);  // before any tick
  CHECK(c.raft("solo").term() == 1);
  const ProposeResult result = c.propose("solo", "x");
  CHECK(result.accepted);
  CHECK(c.raft("solo").commit() == result.index);
  CHECK(c.applied_payloads("solo") == std::vector<std::string>{"x"});
  CHECK(c.take_sent().empty());
}

TEST_CASE("propose on a follower is refused naming the leader (or unknown)") {
  Cluster c(abc);
  ProposeResult result = c.propose("b", "x");
  CHECK_FALSE(result.accepted);
  CHECK(result.leader.empty());
  CHECK(result.error() == "not leader, leader unknown");

  REQUIRE(c.elect("a"));
  const Index last = c.raft("b").log().last_index();
  result = c.propose("b", "x");
  CHECK_FALSE(result.accepted);
  CHECK(result.leader == "a");
  CHECK(result.error() == "not leader, leader is a");
  CHECK(c.raft("b").log().last_index() == last);
}
