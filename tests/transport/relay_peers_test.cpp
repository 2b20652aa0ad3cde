// The peer table of the relayed channels (transport/src/relay_peers.hpp),
// without a socket: membership, join mode and its bound, queue accounting.
#include "relay_peers.hpp"

#include <doctest/doctest.h>

using namespace conflux;
using transport::RelayPeers;

namespace {

transport::Decoded<transport::Packet> vote(const std::string& from, const std::string& to) {
  return transport::Decoded<transport::Packet>(transport::Packet(
      raft::Message{.from = from, .to = to, .term = 1, .body = raft::VoteRequest{}}));
}

}  // namespace

TEST_CASE("relay peers: members only; join mode hears the cluster, up to a bound") {
  RelayPeers members("n1", {"n2"});
  std::string why;
  CHECK(members.admit(vote("n2", "n1"), "n2", 10, why));
  CHECK_FALSE(members.admit(vote("n9", "n1"), "n9", 10, why));
  CHECK(why == "\"n9\" is not a peer");

  RelayPeers joining("n1", {});
  for (std::size_t i = 0; i < RelayPeers::max_open_peers; ++i) {
    const auto id = "x" + std::to_string(i);
    REQUIRE(joining.admit(vote(id, "n1"), id, 10, why));
  }
  CHECK_FALSE(joining.admit(vote("one-more", "n1"), "one-more", 10, why));
  CHECK(why.find("one sender too many") != std::string::npos);
  CHECK(joining.admit(vote("x0", "n1"), "x0", 10, why));  // the ones it knows still count
  joining.set_peers({{"n1", ""}, {"x0", ""}});
  CHECK(joining.status([](const RelayPeers::Peer&) { return true; }).size() == 1);
  CHECK_FALSE(joining.admit(vote("x1", "n1"), "x1", 10, why));  // removed by the configuration
}

TEST_CASE("relay peers: queue, write accounting, and drops for removed peers and after close") {
  RelayPeers peers("n1", {"n2", "n3"});
  transport::LinkSettings settings;
  CHECK(peers.queue("n2", "abc", 100, settings, false));
  CHECK_FALSE(peers.queue("nobody", "abc", 100, settings, false));
  CHECK_FALSE(peers.queue("n3", "abc", 100, settings, true));
  peers.set_peers({{"n1", ""}, {"n2", ""}});
  CHECK_FALSE(peers.queue("n3", "abc", 100, settings, false));
  auto& written = peers.pop_written();
  CHECK(written.status.frames_out == 1);
  CHECK(written.status.bytes_out == 3);
  CHECK(peers.outbox().empty());
  const auto all = peers.status([](const RelayPeers::Peer&) { return false; });
  REQUIRE(all.size() == 1);  // n3 left the configuration
  CHECK(all[0].id == "n2");
}
