// Rules from Ongaro's thesis that the core implements on top of the paper:
// pre-vote (§9.6), check-quorum (§6.2), pipelined replication with probe and
// replicate modes (§10.2.1); and replication to every configured peer, which
// the original got wrong.
#include <doctest/doctest.h>

#include <stdexcept>

#include "raft/test_cluster.hpp"

using namespace conflux::raft;
using namespace conflux::raft::testing;

namespace {

const std::vector<NodeId> abc{"a", "b", "c"};

const PeerStatus& peer(const Status& status, const NodeId& id) {
  for (const auto& p : status.peers) {
    if (p.id == id) return p;
  }
  throw std::out_of_range("no peer " + id);
}

/// The AppendEntries in `messages` to `to` that carry entries.
std::vector<AppendRequest> batches_to(const std::vector<Message>& messages, const NodeId& to) {
  std::vector<AppendRequest> out;
  for (auto& request : bodies_of<AppendRequest>(messages, to)) {
    if (!request.entries.empty()) out.push_back(request);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "pre-vote (thesis §9.6): a partitioned node rejoining does not disrupt the leader / its term "
    "does not grow") {
  SUBCASE("with pre-vote and check-quorum (the defaults)") {
    Cluster c(abc);
    REQUIRE(c.elect("a"));
    const Term term = c.raft("a").term();
    c.isolate("c");
    c.tick_all(100);  // c times out again and again, but no pre-vote succeeds
    CHECK(c.raft("c").term() == term);

    c.heal();
    c.tick_all(5);
    CHECK(c.raft("a").role() == Role::leader);
    for (const NodeId& id : abc) {
      CAPTURE(id);
      CHECK(c.raft(id).term() == term);
      CHECK(c.raft(id).leader() == "a");
    }
  }
  SUBCASE("without pre-vote, the same partition raises c's term and deposes the leader on rejoin") {
    Cluster c(abc, [](Config& config) {
      config.pre_vote = false;
      config.check_quorum = false;
    });
    REQUIRE(c.elect("a"));
    const Term term = c.raft("a").term();
    c.isolate("c");
    c.tick_all(100);
    CHECK(c.raft("c").term() > term);

    c.heal();
    c.tick_all(1);
    CHECK(c.raft("a").term() > term);
  }
}

TEST_CASE("check-quorum (thesis §6.2): a leader cut off from the majority steps down") {
  Cluster c(abc, [](Config& config) {
    config.election_ticks_min = 10;
    config.election_ticks_max = 10;
  });
  REQUIRE(c.elect("a"));
  const Term term = c.raft("a").term();

  SUBCASE("alone: it steps down within two election timeouts, keeping its term") {
    c.isolate("a");
    c.tick("a", 2 * 10);
    CHECK(c.raft("a").role() == Role::follower);
    CHECK(c.raft("a").leader().empty());
    CHECK(c.raft("a").term() == term);
    CHECK_FALSE(c.propose("a", "x").accepted);
  }
  SUBCASE("with a majority still answering: it keeps leading") {
    c.isolate("c");
    c.tick_all(50);
    CHECK(c.raft("a").role() == Role::leader);
    CHECK(c.raft("a").term() == term);
  }
}

TEST_CASE("replication reaches every configured peer, even ones that did not vote") {
  Cluster c(abc);
  SUBCASE("c was cut off during the election") {
    c.isolate("c");
  }
  SUBCASE("c never heard a vote request") {
    c.drop_if([](const Message& m) {
      return m.to == "c" && std::holds_alternative<VoteRequest>(m.body);
    });
  }
  REQUIRE(c.elect("a"));
  c.heal();
  REQUIRE(c.raft("c").status().vote.empty());  // c took no part in the election

  REQUIRE(c.propose("a", "x").accepted);
  c.deliver();
  c.tick("a");  // the next heartbeat finds c
  c.deliver();
  CHECK(terms_of(c.raft("c").log()) == terms_of(c.raft("a").log()));
  CHECK(c.applied_payloads("c") == std::vector<std::string>{"x"});
}

TEST_CASE(
    "pipelining: several AppendEntries in flight respect max_inflight_messages and "
    "max_entries/bytes per message") {
  SUBCASE("a window of max_inflight_messages, each of at most max_entries_per_message") {
    Cluster c(abc, [](Config& config) {
      config.max_inflight_messages = 2;
      config.max_entries_per_message = 3;
    });
    REQUIRE(c.elect("a"));
    Raft& a = c.raft("a");
    for (int i = 0; i < 10; ++i) a.propose(Payload("p"));

    const auto batches = batches_to(c.queued(), "b");
    REQUIRE(batches.size() == 2);
    CHECK(batches[0].entries.size() == 3);
    CHECK(batches[1].entries.size() == 3);
    CHECK(batches[1].prev_log_index ==
          batches[0].prev_log_index + 3);  // back to back, unacknowledged
    CHECK(peer(a.status(), "b").inflight == 2);

    c.deliver();  // each acknowledgement opens the window for the next batch
    CHECK(c.raft("b").log().last_index() == a.log().last_index());
    CHECK(a.commit() == a.log().last_index());
    CHECK(peer(a.status(), "b").inflight == 0);
  }
  SUBCASE("max_bytes_per_message, with an oversize entry sent alone") {
    Cluster c(abc, [](Config& config) { config.max_bytes_per_message = 10; });
    REQUIRE(c.elect("a"));
    for (std::size_t size : {4, 4, 4, 20, 4}) c.raft("a").propose(Payload(std::string(size, 'x')));

    std::vector<std::size_t> batch_sizes;
    for (const auto& batch : batches_to(c.queued(), "b"))
      batch_sizes.push_back(batch.entries.size());
    CHECK(batch_sizes == std::vector<std::size_t>{2, 1, 1, 1});
    c.deliver();
    CHECK(c.applied_payloads("b").size() == 5);
  }
}

TEST_CASE("a rejection of an index beyond the leader's log is ignored: it is no request of ours") {
  Cluster c(abc);
  REQUIRE(c.elect("a"));
  c.propose("a", "x");
  c.deliver();
  Raft& a = c.raft("a");
  REQUIRE(peer(a.status(), "c").state == ProgressState::replicate);
  const auto far = a.log().last_index() + 1000;
  c.step(msg("c", "a", a.term(),
             AppendResponse{.success = false,
                            .match_index = 0,
                            .rejected_index = far,
                            .conflict_index = far,
                            .conflict_term = 0}));
  CHECK(peer(a.status(), "c").state == ProgressState::replicate);
  CHECK(peer(a.status(), "c").next == a.log().last_index() + 1);
  c.propose("a", "y");  // c still gets the log, not a snapshot or nothing
  c.deliver();
  CHECK(c.applied_payloads("c") == c.applied_payloads("a"));
}

TEST_CASE("probe mode after a rejection, replicate mode once matched") {
  Cluster c(abc);
  for (const char* id : {"a", "b"}) {
    c.load(id, HardState{.term = 1, .vote = "", .commit = 0}, entries_with_terms({1, 1, 1}));
  }
  REQUIRE(c.elect_by_hand("a"));  // term 2; its first probes (prev 3) are lost
  Raft& a = c.raft("a");
  CHECK(peer(a.status(), "c").state == ProgressState::probe);

  // c, whose log is empty, rejects the probe at prev 3.
  c.step(msg("c", "a", 2,
             AppendResponse{.success = false,
                            .match_index = 0,
                            .rejected_index = 3,
                            .conflict_index = 1,
                            .conflict_term = 0}));
  CHECK(peer(a.status(), "c").state == ProgressState::probe);
  CHECK(peer(a.status(), "c").next == 1);
  const auto probes = bodies_of<AppendRequest>(c.take_sent(), "c");
  REQUIRE(probes.size() == 1);
  CHECK(probes[0].prev_log_index == 0);

  // While that probe is unanswered, new entries start no second message.
  a.propose(Payload("x"));
  a.propose(Payload("y"));
  CHECK(bodies_of<AppendRequest>(c.take_sent(), "c").empty());

  // c accepts it: replicate mode, streaming everything from the match point.
  c.step(msg("c", "a", 2, ack(probes[0].prev_log_index + probes[0].entries.size())));
  CHECK(peer(a.status(), "c").state == ProgressState::replicate);
  const auto batches = batches_to(c.take_sent(), "c");
  REQUIRE_FALSE(batches.empty());
  CHECK(batches.back().entries.back().index == a.log().last_index());
}
