// Membership through the Node API (thesis ch. 4, §3.10): a cluster founded
// by three nodes grows to five (one added as a voter, one as a learner then
// promoted), hands leadership over, shrinks again, and keeps committing on
// every member throughout, over each channel.

#include <doctest/doctest.h>

#include "lib/cluster_fixture.hpp"

using namespace conflux;
using namespace conflux::test;
using boost::json::array;
using boost::json::value;

namespace {

constexpr auto patience = std::chrono::seconds(10);

/// Where each node listens, as the fixture chose.
std::map<std::string, std::string> addresses;

/// n1, n2 and n3 found the cluster; n4 and n5 start in join mode.
NodeCluster grow_from_three(Wire wire) {
  return NodeCluster(5, wire, false, [](Options& options) {
    for (const auto& peer : options.peers) addresses[peer.id] = peer.address;
    if (options.id == "n4" || options.id == "n5") {
      options.join = true;
    } else {
      options.peers.resize(3);
    }
    options.perform_timeout = patience;
  });
}

template <class Start>
Result wait(NodeCluster& c, Start start) {
  Result result;
  start(result.handler());
  run_until(
      c.io, [&] { return result.done; }, patience + std::chrono::seconds(2));
  return result;
}

std::vector<std::string> ids_of(const std::vector<Peer>& peers) {
  std::vector<std::string> ids;
  for (const auto& peer : peers) ids.push_back(peer.id);
  return ids;
}

bool converged_on(NodeCluster& c, const std::vector<std::size_t>& members, const value& state) {
  for (const auto i : members) {
    if (c.node(i).state() != state) return false;
  }
  return true;
}

void grow_transfer_and_shrink(Wire wire) {
  auto c = grow_from_three(wire);
  REQUIRE(c.wait_for_leader());
  const auto founder_leader = static_cast<std::size_t>(c.leader());
  const auto follower = (founder_leader + 1) % 3;
  CHECK_FALSE(wait(c, [&](auto h) { c.node(follower).perform("append", {"a"}, h); }).error);

  // From a follower: forwarded to the leader like a perform.
  auto voter = wait(c, [&](auto h) {
    c.node(follower).add_member(Peer{"n4", addresses.at("n4")}, false, h);
  });
  CHECK_FALSE(voter.error);
  CHECK(ids_of(c.node(founder_leader).members().voters) ==
        std::vector<std::string>{"n1", "n2", "n3", "n4"});
  // Asked again (its answer lost, say): done, nothing appended.
  const auto last = c.node(founder_leader).status().last_index;
  auto again = wait(c, [&](auto h) {
    c.node(follower).add_member(Peer{"n4", addresses.at("n4")}, false, h);
  });
  CHECK_FALSE(again.error);
  CHECK(c.node(founder_leader).status().last_index == last);
  auto moved = wait(c, [&](auto h) { c.node(0).add_member(Peer{"n4", "elsewhere:1"}, false, h); });
  CHECK(moved.code() == errc::membership_refused);
  CHECK(moved.message().find("already a member") != std::string::npos);
  auto learner = wait(c, [&](auto h) {
    c.node(0).add_member(Peer{"n5", addresses.at("n5")}, true, h);
  });
  CHECK_FALSE(learner.error);
  CHECK(ids_of(c.node(founder_leader).members().learners) == std::vector<std::string>{"n5"});
  CHECK_FALSE(wait(c, [&](auto h) { c.node(1).promote("n5", h); }).error);
  const auto five = c.node(founder_leader).members();
  CHECK(ids_of(five.voters) == std::vector<std::string>{"n1", "n2", "n3", "n4", "n5"});
  CHECK(five.outgoing.empty());

  CHECK_FALSE(wait(c, [&](auto h) { c.node(4).perform("append", {"b"}, h); }).error);
  CHECK(run_until(c.io, [&] { return c.converged(array{"a", "b"}); }));

  // Thesis §3.10: hand leadership to the newest voter.
  CHECK_FALSE(wait(c, [&](auto h) { c.node(founder_leader).transfer_leadership("n4", h); }).error);
  CHECK(run_until(c.io, [&] { return c.leader() == 3; }));

  // Shrink back to three, the old leader included.
  for (const auto* id : {"n1", "n2"}) {
    CAPTURE(id);
    const auto removed = wait(c, [&](auto h) { c.node(4).remove_member(id, h); });
    CHECK_FALSE(removed.error);
  }
  CHECK(ids_of(c.node(3).members().voters) == std::vector<std::string>{"n3", "n4", "n5"});
  CHECK_FALSE(wait(c, [&](auto h) { c.node(2).perform("append", {"c"}, h); }).error);
  CHECK(run_until(c.io, [&] { return converged_on(c, {2, 3, 4}, array{"a", "b", "c"}); }));

  const auto unknown = wait(c, [&](auto h) { c.node(3).remove_member("zz", h); });
  CHECK(unknown.code() == errc::membership_refused);
  CHECK(unknown.message().find("not a member") != std::string::npos);
}

}  // namespace

TEST_CASE("membership: grow 3 -> 5, transfer leadership, shrink to 3, over every channel") {
  for (const auto wire : {Wire::in_process, Wire::tcp, Wire::tls}) {
    CAPTURE(to_string(wire));
    grow_transfer_and_shrink(wire);
  }
}
