// Membership changes (thesis ch. 4, joint consensus §4.3) and leadership
// transfer (thesis §3.10), one rule per test.
#include <doctest/doctest.h>

#include "raft/test_cluster.hpp"

using namespace conflux::raft;
using namespace conflux::raft::testing;

namespace {

using Kind = MembershipChange::Kind;

/// "a", "b", "c" found the cluster; "d" and "e" start in join mode.
Cluster founders_and_joiners() {
  return Cluster({"a", "b", "c", "d", "e"}, [](Config& config) {
    config.voters = {"a", "b", "c"};
    if (config.id == "d" || config.id == "e") config.voters.clear();
  });
}

/// A cluster founded by a, b and c whose leader "a" committed its first entry.
Cluster led_by_a() {
  auto c = founders_and_joiners();
  REQUIRE(c.elect("a"));
  c.tick_all(2);
  REQUIRE(c.raft("a").commit() >= 1);
  return c;
}

MembershipChange change(Kind kind, NodeId id) {
  return MembershipChange{kind, std::move(id),
                          "addr-" + std::string(1, kind == Kind::remove ? 'r' : 'a')};
}

Configuration simple(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  return Configuration{.voters = std::move(voters),
                       .outgoing = {},
                       .learners = std::move(learners),
                       .addresses = {}};
}

}  // namespace

TEST_CASE("thesis §4.1: the first leader records its bootstrap configuration in the log") {
  auto c = led_by_a();
  const Entry& first = c.raft("a").log().at(1);
  CHECK(first.type == EntryType::configuration);
  CHECK(decode_configuration(first.payload.view())->voters == std::vector<NodeId>{"a", "b", "c"});
  // A later leader appends a no-op: the log already says who the members are.
  c.isolate("a");
  c.tick_all(40);
  const auto leader = c.leader();
  REQUIRE((leader && *leader != "a"));
  const Log& log = c.raft(*leader).log();
  CHECK(log.at(log.last_index()).type == EntryType::no_op);
}

TEST_CASE("thesis §4.1: a restarted node follows its log, not its bootstrap list") {
  auto c = led_by_a();
  c.restart("b");
  CHECK(c.raft("b").configuration().voters == std::vector<NodeId>{"a", "b", "c"});
  REQUIRE(c.raft("a").change_membership({change(Kind::add_learner, "d")}).accepted);
  c.tick_all(3);
  c.restart("b");  // its Config still says a, b, c only
  CHECK(c.raft("b").configuration().learners == std::vector<NodeId>{"d"});
}

TEST_CASE(
    "thesis §4.2.1: a node in join mode never campaigns, and learns its cluster from the leader") {
  auto c = led_by_a();
  c.tick("d", 100);
  CHECK(c.raft("d").role() == Role::follower);
  CHECK(c.raft("d").term() == 0);
  REQUIRE(c.raft("a").change_membership({change(Kind::add_learner, "d")}).accepted);
  c.tick_all(3);
  CHECK(c.raft("d").configuration().learners == std::vector<NodeId>{"d"});
  CHECK(c.raft("d").log().last_index() == c.raft("a").log().last_index());
  CHECK(c.raft("d").commit() == c.raft("a").commit());
}

TEST_CASE("thesis §4.2.1: a learner receives the log but neither counts nor campaigns") {
  auto c = led_by_a();
  REQUIRE(c.raft("a").change_membership({change(Kind::add_learner, "d")}).accepted);
  c.tick_all(3);
  c.isolate("b");
  c.isolate("c");
  const auto proposal = c.propose("a", "x");
  REQUIRE(proposal.accepted);
  c.tick_all(3);
  CHECK(c.raft("d").log().last_index() >= proposal.index);  // replicated to the learner
  CHECK(c.raft("a").commit() < proposal.index);             // but a + d are not a majority
  c.isolate("a");
  c.tick("d", 100);
  CHECK(c.raft("d").role() == Role::follower);
}

TEST_CASE(
    "thesis §4.2.1: a learner does not campaign while its newest configuration is uncommitted") {
  auto c = led_by_a();
  REQUIRE(c.raft("a").change_membership({change(Kind::add_learner, "d")}).accepted);
  c.tick_all(3);
  c.isolate("b");
  c.isolate("c");
  // The next change reaches d but cannot commit; then the leader is gone.
  REQUIRE(c.raft("a").change_membership({change(Kind::add_learner, "e")}).accepted);
  c.tick_all(3);
  REQUIRE(c.raft("d").configuration().learners == std::vector<NodeId>{"d", "e"});
  REQUIRE(c.raft("d").commit() < c.raft("d").log().last_index());
  c.isolate("a");
  c.take_sent();
  c.tick("d", 100);
  CHECK(c.raft("d").role() == Role::follower);
  int vote_requests = 0;
  for (const auto& m : c.take_sent()) {
    vote_requests += m.from == "d" && std::holds_alternative<VoteRequest>(m.body);
  }
  CHECK(vote_requests == 0);
}

TEST_CASE(
    "thesis §4.3: a change of voters goes through C_old,new, which the leader leaves by itself") {
  auto c = led_by_a();
  const auto result =
      c.raft("a").change_membership({change(Kind::add_voter, "d"), change(Kind::add_voter, "e")});
  REQUIRE(result.accepted);
  const Configuration& joint = c.raft("a").configuration();  // in force once appended (§4.1)
  CHECK(joint.joint());
  CHECK(joint.outgoing == std::vector<NodeId>{"a", "b", "c"});
  CHECK(joint.voters == std::vector<NodeId>{"a", "b", "c", "d", "e"});
  c.tick_all(4);
  const Configuration& now = c.raft("a").configuration();
  CHECK_FALSE(now.joint());
  CHECK(now.voters == std::vector<NodeId>{"a", "b", "c", "d", "e"});
  CHECK(c.raft("a").status().configuration_committed);
  for (const NodeId id : {"b", "c", "d", "e"}) CHECK(c.raft(id).configuration() == now);
}

TEST_CASE("thesis §4.3: while joint, commitment needs a majority of C_old and of C_new") {
  auto c = led_by_a();
  c.isolate("b");
  c.isolate("c");
  REQUIRE(c.raft("a")
              .change_membership({change(Kind::add_voter, "d"), change(Kind::add_voter, "e")})
              .accepted);
  c.tick_all(4);
  // a, d and e are a majority of C_new but not of C_old = {a, b, c}.
  CHECK(c.raft("a").configuration().joint());
  CHECK_FALSE(c.raft("a").status().configuration_committed);
  c.heal();
  c.tick_all(4);
  CHECK_FALSE(c.raft("a").configuration().joint());
}

TEST_CASE("thesis §4.1: truncating a configuration entry undoes it") {
  Cluster c({"a", "b"});
  const auto joint = encode(Configuration{
      .voters = {"a", "b", "c"}, .outgoing = {"a", "b"}, .learners = {}, .addresses = {}});
  c.step(
      msg("a", "b", 2, append(0, 0, {Entry{2, 1, EntryType::configuration, Payload(joint)}}, 0)));
  CHECK(c.raft("b").configuration().joint());
  c.step(msg("a", "b", 3, append(0, 0, entries_with_terms({3}), 0)));
  CHECK(c.raft("b").configuration() == simple({"a", "b"}));
}

TEST_CASE("a configuration entry that is not canonical is refused as malformed") {
  Cluster c({"a", "b"});
  for (const std::string text :
       {R"({"voters":["b","a"],"outgoing":[],"learners":[],"addresses":{}})",
        R"({"voters":[],"outgoing":[],"learners":[],"addresses":{}})",
        R"({"voters":["a"], "outgoing":[],"learners":[],"addresses":{}})", "null"}) {
    CAPTURE(text);
    const auto result = c.raft("b").step(
        msg("a", "b", 2, append(0, 0, {Entry{2, 1, EntryType::configuration, Payload(text)}}, 0)));
    CHECK(result.error == StepError::malformed);
    CHECK(result.reason.find("configuration") != std::string::npos);
  }
}

TEST_CASE("configurations round-trip through their canonical text, escapes included") {
  const Configuration config{.voters = {"a", "b"},
                             .outgoing = {"a"},
                             .learners = {"l\"1"},
                             .addresses = {{"a", "10.0.0.1:7000"}, {"l\"1", "x\n\\y"}}};
  const auto text = encode(config);
  CHECK(text.find("\\u000a") != std::string::npos);
  CHECK(decode_configuration(text) == config);
}

TEST_CASE("thesis §4.2.2: a removed leader leads until C_new commits, then steps down") {
  auto c = led_by_a();
  // Acknowledgements of C_new = {b, c} are held back, so it stays uncommitted.
  const Index c_new = c.raft("a").status().last_index + 2;  // after C_old,new
  c.drop_if([&](const Message& m) {
    const auto* ack = std::get_if<AppendResponse>(&m.body);
    return ack != nullptr && ack->match_index >= c_new;
  });
  REQUIRE(c.raft("a").change_membership({change(Kind::remove, "a")}).accepted);
  c.tick_all(1);
  // Joint left, C_new appended: a still leads, and replicates it.
  REQUIRE(c.raft("a").configuration() == simple({"b", "c"}));
  REQUIRE_FALSE(c.raft("a").status().configuration_committed);
  CHECK(c.raft("a").role() == Role::leader);
  c.heal();
  c.tick_all(4);
  CHECK(c.raft("a").role() == Role::follower);
  CHECK(c.raft("b").configuration() == simple({"b", "c"}));
  c.isolate("a");
  c.tick_all(40);
  const auto leader = c.leader();
  REQUIRE(leader.has_value());
  CHECK(*leader != "a");
  // A removed node that knows C_new committed never campaigns (§4.2.3).
  const auto term = c.raft("a").term();
  c.tick("a", 100);
  CHECK(c.raft("a").term() == term);
}

TEST_CASE("membership changes are refused with a reason") {
  auto c = led_by_a();
  auto& a = c.raft("a");
  CHECK(a.change_membership({change(Kind::remove, "z")}).error().find("not a member") !=
        std::string::npos);
  CHECK(a.change_membership({change(Kind::add_voter, "b")}).error().find("already a member") !=
        std::string::npos);
  CHECK(a.change_membership({change(Kind::promote, "b")}).error().find("not a learner") !=
        std::string::npos);
  CHECK(a.change_membership({}).error().find("no membership change") != std::string::npos);
  REQUIRE(a.change_membership({change(Kind::add_learner, "d")}).accepted);
  CHECK(a.change_membership({change(Kind::add_learner, "e")}).error().find("in progress") !=
        std::string::npos);
  CHECK(c.raft("b").change_membership({change(Kind::add_learner, "e")}).not_leader());
}

TEST_CASE("removing the last voter is refused") {
  Cluster c({"a"});
  c.process_all();
  REQUIRE(c.raft("a").role() == Role::leader);
  CHECK(c.raft("a").change_membership({change(Kind::remove, "a")}).error().find("last voter") !=
        std::string::npos);
}

TEST_CASE("Ongaro 2015: a new leader changes nothing before it commits an entry of its term") {
  auto c = founders_and_joiners();
  REQUIRE(c.elect_by_hand("a"));  // its first AppendEntries were dropped
  CHECK(c.raft("a")
            .change_membership({change(Kind::add_learner, "d")})
            .error()
            .find("not yet committed an entry of its term") != std::string::npos);
}

TEST_CASE("thesis §4.2.1: a learner is promoted only once it has caught up") {
  auto c = led_by_a();
  c.isolate("d");
  REQUIRE(c.raft("a").change_membership({change(Kind::add_learner, "d")}).accepted);
  c.tick_all(3);
  CHECK(c.raft("a")
            .change_membership({change(Kind::promote, "d")})
            .error()
            .find("has not caught up") != std::string::npos);
  c.heal();
  c.tick_all(3);
  REQUIRE(c.raft("a").change_membership({change(Kind::promote, "d")}).accepted);
  c.tick_all(4);
  CHECK(c.raft("a").configuration() == Configuration{.voters = {"a", "b", "c", "d"},
                                                     .outgoing = {},
                                                     .learners = {},
                                                     .addresses = {{"d", "addr-a"}}});
}

TEST_CASE("thesis §3.10: transfer brings the target up to date, then sends TimeoutNow") {
  auto c = led_by_a();
  c.isolate("b");
  REQUIRE(c.propose("a", "x").accepted);
  c.tick_all(1);
  REQUIRE(c.raft("a").transfer_leadership("b").accepted);
  CHECK(c.raft("a").status().transfer_target == "b");
  // Proposals wait while the transfer runs.
  const auto refused = c.propose("a", "y");
  CHECK_FALSE(refused.accepted);
  CHECK(refused.error().find("being transferred") != std::string::npos);
  c.heal();
  c.tick_all(3);
  CHECK(c.raft("b").role() == Role::leader);
  CHECK(c.raft("a").role() == Role::follower);
  CHECK(c.raft("b").log().last_index() >= 3);
}

TEST_CASE(
    "thesis §3.10: a transfer that does not complete is abandoned after an election timeout") {
  auto c = led_by_a();
  c.isolate("b");
  REQUIRE(c.raft("a").transfer_leadership("b").accepted);
  c.tick("a", c.raft("a").config().election_ticks_min);
  CHECK(c.raft("a").status().transfer_target.empty());
  CHECK(c.propose("a", "z").accepted);
}

TEST_CASE("thesis §3.10: only a voter can be the target of a transfer") {
  auto c = led_by_a();
  CHECK(c.raft("a").transfer_leadership("d").error().find("not a voter") != std::string::npos);
  CHECK(c.raft("a").transfer_leadership("a").error().find("already leads") != std::string::npos);
}

TEST_CASE("thesis §3.10: a transfer's vote request sets the leader lease aside") {
  auto c = led_by_a();
  // b heard from a just now, so an ordinary vote request would be ignored.
  const auto before = c.raft("b").term();
  auto request = vote(c.raft("c").log().last_index(), c.raft("c").log().last_term());
  c.raft("b").step(msg("c", "b", before + 1, request));
  CHECK(c.raft("b").term() == before);
  request.transfer = true;
  c.raft("b").step(msg("c", "b", before + 1, request));
  CHECK(c.raft("b").term() == before + 1);
}

TEST_CASE("thesis §5.1: a snapshot carries the configuration to a node that joins far behind") {
  auto c = Cluster({"a", "b", "c", "d"}, [](Config& config) {
    config.voters = {"a", "b", "c"};
    if (config.id == "d") config.voters.clear();
    config.trailing_entries = 0;
  });
  REQUIRE(c.elect("a"));
  for (int i = 0; i < 5; ++i) c.propose("a", "e" + std::to_string(i));
  c.tick_all(2);
  auto& a = c.raft("a");
  const SnapshotMeta meta{a.applied(), *a.log().term_at(a.applied()), 3,
                          a.configuration_at(a.applied())};
  c.storage("a").save_snapshot(meta, Payload("abc"));
  a.compact(meta);
  REQUIRE(a.change_membership({change(Kind::add_learner, "d")}).accepted);
  c.tick_all(4);
  CHECK(c.raft("d").snapshot() == meta);
  CHECK(c.raft("d").configuration().learners == std::vector<NodeId>{"d"});
  CHECK(c.raft("d").commit() == a.commit());
}
