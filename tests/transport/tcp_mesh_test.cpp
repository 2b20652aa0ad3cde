// The TCP mesh on loopback: delivery, restarts, hostile input, slow peers,
// and a graceful close.

#include <doctest/doctest.h>

#include <boost/asio/steady_timer.hpp>
#include <set>

#include "transport/tcp_fixture.hpp"

using namespace conflux;
using namespace conflux::test;
using transport::DropReason;

namespace {

const std::vector<raft::NodeId> five{"n1", "n2", "n3", "n4", "n5"};
const std::vector<raft::NodeId> three{"n1", "n2", "n3"};

/// n2 -> n1 still works: the victim keeps serving its other peers.
bool still_serving(MeshCluster& c, raft::Term marker) {
  c.node("n2").send(vote("n2", "n1", marker));
  return run_until(c.io, [&] {
    for (const auto& m : c.inbox("n1")) {
      if (m.term == marker) return true;
    }
    return false;
  });
}

bool logged(const MeshCluster& c, std::string_view fragment) {
  for (const auto& line : c.logs) {
    if (line.find(fragment) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE(
    "tcp: in a 5-node mesh every pair exchanges messages, sends to self work, broadcast reaches "
    "all") {
  MeshCluster c(five);
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  for (const auto& from : five) {
    for (const auto& to : five) c.node(from).send(vote(from, to, 7));  // self included
  }
  REQUIRE(run_until(c.io, [&] {
    for (const auto& id : five) {
      if (c.inbox(id).size() != five.size()) return false;
    }
    return true;
  }));
  for (const auto& id : five) {
    std::set<raft::NodeId> senders;
    for (const auto& m : c.inbox(id)) senders.insert(m.from);
    CHECK(senders.size() == five.size());
  }
  CHECK(c.status("n1", "n2").frames_out >= 1);
  CHECK(c.status("n2", "n1").frames_in >= 1);
  CHECK(c.status("n2", "n1").bytes_in > 0);
}

TEST_CASE("tcp: 50 sequential sends on a stable link arrive in order") {
  MeshCluster c(three);
  for (raft::Term t = 1; t <= 50; ++t) c.node("n1").send(vote("n1", "n2", t));
  REQUIRE(run_until(c.io, [&] { return c.inbox("n2").size() == 50; }));
  for (raft::Term t = 1; t <= 50; ++t) CHECK(c.inbox("n2")[t - 1].term == t);
}

TEST_CASE("tcp: a restarted peer is redialled, delivery resumes, and links do not spin meanwhile") {
  MeshCluster c(three);
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  REQUIRE(c.stop("n3"));
  REQUIRE(run_until(c.io, [&] { return !c.status("n1", "n3").connected; }));

  // While n3 is down, n1's and n2's links back off instead of spinning.
  c.io.restart();
  const auto handlers = c.io.run_for(std::chrono::milliseconds(500));
  CHECK(handlers < 200);

  c.restart("n3");
  c.node("n1").send(vote("n1", "n3", 1));  // may be lost while reconnecting: Raft retransmits
  REQUIRE(run_until(c.io, [&] { return c.status("n1", "n3").connected; }));
  c.node("n1").send(vote("n1", "n3", 2));
  c.node("n3").send(vote("n3", "n2", 3));
  REQUIRE(run_until(c.io, [&] {
    return !c.inbox("n3").empty() && c.inbox("n3").back().term == 2 && !c.inbox("n2").empty();
  }));
}

namespace {

/// A mesh under attack: each attack() opens a raw connection to n1, runs
/// `act` on it, and checks that n1 closed it and still serves the others.
struct UnderAttack {
  MeshCluster c{three, [](transport::TcpMeshConfig& config) {
                  config.handshake_timeout = std::chrono::milliseconds(2000);
                }};
  raft::Term marker = 100;

  template <class Act>
  void attack(const std::string& name, Act&& act) {
    CAPTURE(name);
    RawPeer raw(c.io, c.port("n1"));
    REQUIRE(run_until(c.io, [&] { return raw.connected(); }));
    act(raw);
    CHECK(run_until(c.io, [&] { return raw.closed(); }));
    CHECK(still_serving(c, ++marker));
  }
};

std::string hello_frame(const std::string& from, const std::string& to) {
  return frame(
      transport::encode(transport::Hello{transport::protocol_version, "test-cluster", from, to}));
}

}  // namespace

TEST_CASE("tcp: hostile input after the handshake closes only that connection, counted by reason") {
  UnderAttack a;
  REQUIRE(run_until(a.c.io, [&] { return a.c.all_connected(); }));
  auto& c = a.c;
  a.attack("truncated frame", [&](RawPeer& raw) {
    raw.hello("n3", "n1");
    raw.write(frame(transport::encode(vote("n3", "n1", 1))).substr(0, 10));
    raw.shutdown_send();
  });
  a.attack("length 0xFFFFFFFF after the handshake", [&](RawPeer& raw) {
    raw.hello("n3", "n1");
    raw.write(std::string("\xff\xff\xff\xff", 4));
  });
  CHECK(c.status("n1", "n3").dropped_for(DropReason::frame_error) == 1);
  a.attack("zero-length frame", [&](RawPeer& raw) {
    raw.hello("n3", "n1");
    raw.write(std::string(4, '\0'));
  });
  CHECK(c.status("n1", "n3").dropped_for(DropReason::frame_error) == 2);
  a.attack("valid JSON of the wrong shape", [&](RawPeer& raw) {
    raw.hello("n3", "n1");
    raw.write(frame(R"({"type":"vote","from":"n3","to":"n1","term":"seven"})"));
  });
  a.attack("unknown message type", [&](RawPeer& raw) {
    raw.hello("n3", "n1");
    raw.write(frame(R"({"type":"install_virus","from":"n3","to":"n1","term":1})"));
  });
  CHECK(c.status("n1", "n3").dropped_for(DropReason::decode_error) == 2);
  a.attack("a spoofed sender", [&](RawPeer& raw) {
    raw.hello("n3", "n1");
    raw.write(frame(transport::encode(vote("n2", "n1", 1))));
  });
  CHECK(c.status("n1", "n3").dropped_for(DropReason::misrouted) == 1);
}

TEST_CASE("tcp: hostile input before or in the handshake is refused, each with a logged line") {
  UnderAttack a;
  REQUIRE(run_until(a.c.io, [&] { return a.c.all_connected(); }));
  auto& c = a.c;
  a.attack("length 0xFFFFFFFF before the handshake",
           [&](RawPeer& raw) { raw.write(std::string("\xff\xff\xff\xff", 4)); });
  a.attack("garbage bytes", [&](RawPeer& raw) { raw.write("\x00\x00\x00\x05garbage and more"); });
  a.attack("a truncated frame before the handshake", [&](RawPeer& raw) {
    raw.write(hello_frame("n3", "n1").substr(0, 10));
    raw.shutdown_send();
  });
  CHECK(logged(c, "closed after 10 bytes, before a whole hello frame"));
  a.attack("a message before the handshake",
           [&](RawPeer& raw) { raw.write(frame(transport::encode(vote("n3", "n1", 1)))); });
  CHECK(logged(c, "expected a \"hello\" frame first"));
  a.attack("a wrong cluster id", [&](RawPeer& raw) { raw.hello("n3", "n1", "another-cluster"); });
  CHECK(logged(c, "cluster \"another-cluster\" is not \"test-cluster\""));
  a.attack("the node's own id", [&](RawPeer& raw) { raw.hello("n1", "n1"); });
  CHECK(logged(c, "\"n1\" is this node's own id"));
  a.attack("an unknown node id", [&](RawPeer& raw) { raw.hello("mallory", "n1"); });
  CHECK(logged(c, "\"mallory\" is not a member of this cluster"));
  a.attack("a silent connection times out", [&](RawPeer&) {});
  CHECK(logged(c, "handshake timed out"));
}

TEST_CASE("tcp: a peer's newer connection replaces its older one, which is closed") {
  UnderAttack a;
  auto& c = a.c;
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  std::vector<std::unique_ptr<RawPeer>> raws;
  for (int i = 0; i < 3; ++i) {  // each hello replaces the one before, n3's own link first
    raws.push_back(std::make_unique<RawPeer>(c.io, c.port("n1")));
    REQUIRE(run_until(c.io, [&] { return raws.back()->connected(); }));
    raws.back()->hello("n3", "n1");
    REQUIRE(run_until(c.io, [&] { return raws.back()->received().size() > 0; }));  // welcomed
  }
  // The third stays open until n3's own link, dialling again, replaces it;
  // only then is n3's connection the one n1 reads.
  CHECK(run_until(c.io, [&] { return raws[0]->closed() && raws[1]->closed(); }));
  CHECK(logged(c, "connection from n3 replaced by a newer one from 127.0.0.1:"));
  REQUIRE(run_until(c.io, [&] { return raws[2]->closed(); }));
  c.node("n3").send(vote("n3", "n1", ++a.marker));
  CHECK(run_until(c.io, [&] {
    for (const auto& m : c.inbox("n1")) {
      if (m.term == a.marker) return true;
    }
    return false;
  }));
}

TEST_CASE("tcp: a refused handshake is reported on both sides") {
  MeshCluster c({"n1", "n2"}, [](transport::TcpMeshConfig& config) {
    if (config.id == "n2") config.cluster = "other-cluster";
  });
  REQUIRE(run_until(c.io, [&] {
    return c.status("n1", "n2").last_error.find("refused: cluster") != std::string::npos;
  }));
  CHECK(logged(c, "[conflux tcp n2] refused connection"));
  CHECK(logged(c, "[conflux tcp n1] link to n2 refused"));
  CHECK_FALSE(c.status("n1", "n2").connected);
}

TEST_CASE("tcp: a slowloris peer does not delay traffic between the others") {
  MeshCluster c(three);
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  RawPeer slow(c.io, c.port("n1"));
  REQUIRE(run_until(c.io, [&] { return slow.connected(); }));
  const std::string hello = frame(
      transport::encode(transport::Hello{transport::protocol_version, "test-cluster", "n3", "n1"}));
  std::size_t sent = 0;
  asio::steady_timer drip(c.io);
  std::function<void()> send_one = [&] {  // one byte per second
    slow.write(hello.substr(sent++, 1));
    drip.expires_after(std::chrono::seconds(1));
    drip.async_wait([&](boost::system::error_code ec) {
      if (!ec && sent < hello.size()) send_one();
    });
  };
  send_one();
  for (raft::Term t = 1; t <= 20; ++t) c.node("n2").send(vote("n2", "n1", t));
  CHECK(run_until(
      c.io, [&] { return c.inbox("n1").size() == 20; }, std::chrono::milliseconds(900)));
  CHECK(sent <= 2);  // the traffic did not wait for the slow peer
  drip.cancel();
}

TEST_CASE("tcp: a full queue drops and counts instead of blocking") {
  MeshCluster c(three, [](transport::TcpMeshConfig& config) { config.queue_max_frames = 8; });
  REQUIRE(c.stop("n3"));
  for (int i = 0; i < 20; ++i) c.node("n1").send(vote("n1", "n3", 1));
  CHECK(c.status("n1", "n3").dropped_for(DropReason::queue_full) >= 12);
}

TEST_CASE("tcp: close() ends every coroutine and io_context::run() returns by itself") {
  {
    MeshCluster c(three);
    REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
    for (const auto& id : three) c.node(id).close();
    c.io.restart();
    c.io.run_for(std::chrono::seconds(10));
    CHECK(c.io.stopped());
    for (const auto& id : three) CHECK_FALSE(c.running(id));
  }
}
