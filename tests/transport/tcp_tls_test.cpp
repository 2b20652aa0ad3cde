// The TCP mesh over TLS with mutual authentication (transport/tls.hpp):
// members that present certificates of the cluster's authority naming
// their ids talk; every other connection is refused with a reason in the
// log and a count per reason, while the members keep talking.

#include <doctest/doctest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <filesystem>
#include <tuple>

#include "support/dev_certs.hpp"
#include "support/tls_exchange.hpp"
#include "transport/tcp_fixture.hpp"

using namespace conflux;
using namespace conflux::test;

namespace {

/// n1, n2, n3 and n9 by the authority, n3 by another authority
/// ("other/n3"), and an expired n3 ("old/n3").
DevCerts& certs() {
  return made_once([](DevCerts& made) {
    made.make_in("other", "n3", "--authority other");
    made.make_in("old", "n3", "--expired");
    made.make("n1 n2 n3 n9");
  });
}

/// n1 and n2 over TLS; n3 is a member that is not running, so that an
/// intruder can try to pass for it.
struct SecureMesh {
  MeshCluster c{{"n1", "n2"}, [](transport::TcpMeshConfig& config) {
                  config.tls = certs().files(config.id);
                  config.peers["n3"] = "";
                  config.handshake_timeout = std::chrono::milliseconds(1500);
                }};
  raft::Term marker = 100;

  /// n1 and n2 (n3 is not running).
  bool linked() {
    return run_until(
        c.io, [&] { return c.status("n1", "n2").connected && c.status("n2", "n1").connected; });
  }
  bool still_serving() {
    const auto term = ++marker;
    c.node("n2").send(vote("n2", "n1", term));
    return run_until(c.io,
                     [&] { return !c.inbox("n1").empty() && c.inbox("n1").back().term == term; });
  }
  std::uint64_t refused(const char* reason) {
    const auto counts = c.node("n1").refusals();
    const auto found = counts.find(reason);
    return found == counts.end() ? 0 : found->second;
  }
  bool logged(std::string_view fragment) const {
    for (const auto& line : c.logs) {
      if (line.find(fragment) != std::string::npos) return true;
    }
    return false;
  }
};

/// A mesh node "n3" that dials n1 with `tls` (none: plaintext).
class Intruder {
 public:
  Intruder(asio::io_context& io, std::uint16_t n1_port, transport::TlsFiles tls) : io_(io) {
    transport::TcpMeshConfig config;
    config.id = "n3";
    config.cluster = "test-cluster";
    config.peers = {{"n1", "127.0.0.1:" + std::to_string(n1_port)}, {"n3", ""}};
    config.tls = std::move(tls);
    config.log = [this](std::string_view line) { logs.emplace_back(line); };
    mesh_ = std::make_unique<transport::TcpMesh>(io.get_executor(), config,
                                                 [this](transport::Packet) { ++received; });
    running_ = true;
    asio::co_spawn(io, mesh_->run(), [this](std::exception_ptr) { running_ = false; });
  }
  ~Intruder() {
    mesh_->close();
    run_until(io_, [&] { return !running_; });
  }
  transport::TcpMesh& mesh() { return *mesh_; }
  std::vector<std::string> logs;
  int received = 0;

 private:
  asio::io_context& io_;
  std::unique_ptr<transport::TcpMesh> mesh_;
  bool running_ = false;
};

}  // namespace

TEST_CASE("tls: members with certificates naming their ids connect and talk") {
  MeshCluster c({"n1", "n2", "n3"},
                [](transport::TcpMeshConfig& config) { config.tls = certs().files(config.id); });
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  c.node("n1").send(vote("n1", "n2", 7));
  c.node("n3").send(vote("n3", "n1", 8));
  REQUIRE(run_until(c.io, [&] { return !c.inbox("n2").empty() && !c.inbox("n1").empty(); }));
  CHECK(c.inbox("n2").front().term == 7);
  CHECK(c.node("n1").refusals().empty());
}

// Small frames leave the idle writer directly (one record each) and a burst
// of them is opened from one socket read: none lost, none reordered, none
// garbled.
TEST_CASE("tls: bursts of small frames and large batches arrive whole and in order") {
  MeshCluster c({"n1", "n2"},
                [](transport::TcpMeshConfig& config) { config.tls = certs().files(config.id); });
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  constexpr raft::Term burst = 2000;
  for (raft::Term term = 1; term <= burst; ++term) {
    c.node("n2").send(vote("n2", "n1", term));
    if (term % 100 == 0) c.io.poll();  // lets the writer go idle now and then
  }
  c.node("n2").send(big_append("n2", "n1", 200 << 10));  // many records in one write
  REQUIRE(run_until(c.io, [&] { return c.inbox("n1").size() == burst + 1; }));
  for (raft::Term term = 1; term <= burst; ++term) CHECK(c.inbox("n1")[term - 1].term == term);
  CHECK(std::get<raft::AppendRequest>(c.inbox("n1").back().body).entries.size() == 1);
}

// A receiver that does not read fills the socket: a direct write then sends
// part of its bytes, or none, and the rest waits in the stream, while later
// frames go to the queue. The stream's bytes must leave first, then the
// queue's, with none lost.
TEST_CASE("tcp and tls: what a direct write could not send leaves first, then the queue") {
  for (const bool tls : {false, true}) {
    CAPTURE(tls);
    MeshCluster c({"n1", "n2"}, [tls](transport::TcpMeshConfig& config) {
      if (tls) config.tls = certs().files(config.id);
      config.queue_max_frames = 1 << 16;
    });
    REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
    // ~4 MB, sent without running the receiver: far beyond what loopback
    // buffers hold before the receiver reads (each frame small enough for
    // a direct write).
    constexpr raft::Term frames = 10000;
    for (raft::Term term = 1; term <= frames; ++term) {
      auto message = big_append("n2", "n1", 300);
      message.term = term;
      c.node("n2").send(message);
    }
    REQUIRE(run_until(c.io, [&] { return c.inbox("n1").size() == frames; }));
    bool in_order = true;
    for (raft::Term term = 1; term <= frames; ++term)
      in_order &= c.inbox("n1")[term - 1].term == term;
    CHECK(in_order);
    CHECK(c.status("n2", "n1").frames_out == frames);
  }
}

TEST_CASE("tls: every connection that cannot prove its id is refused, counted and logged") {
  SecureMesh m;
  REQUIRE(m.linked());
  const auto port = m.c.port("n1");

  SUBCASE("a plaintext peer on the TLS port") {
    Intruder plain(m.c.io, port, {});
    CHECK(run_until(m.c.io,
                    [&] { return m.refused(transport::refusal_reasons::tls_handshake) > 0; }));
    CHECK(m.logged("refused connection from 127.0.0.1"));
  }
  // A mesh node refuses to start with these (see below): raw TLS clients
  // present them, with n3's hello.
  const auto hello =
      frame(transport::encode(transport::Hello{.version = transport::protocol_version,
                                               .cluster = "test-cluster",
                                               .from = "n3",
                                               .to = "n1"}));
  SUBCASE("a certificate from another authority") {
    const auto x = start_tls_exchange(m.c.io, port, certs().files("n3", "other"), hello);
    CHECK(
        run_until(m.c.io, [&] { return m.refused(transport::refusal_reasons::certificate) > 0; }));
    CHECK(m.logged("the peer's certificate: unable to get local issuer certificate"));
  }
  SUBCASE("an expired certificate") {
    const auto x = start_tls_exchange(m.c.io, port, certs().files("n3", "old"), hello);
    CHECK(
        run_until(m.c.io, [&] { return m.refused(transport::refusal_reasons::certificate) > 0; }));
    CHECK(m.logged("the peer's certificate: certificate has expired"));
  }
  SUBCASE("a valid certificate that names another id") {
    const auto x = start_tls_exchange(m.c.io, port, certs().files("n9"), hello);
    CHECK(run_until(m.c.io, [&] { return m.refused(transport::refusal_reasons::identity) > 0; }));
    CHECK(m.logged("its certificate does not name \"n3\""));
  }
  SUBCASE("a TLS handshake that stalls") {
    RawPeer slow(m.c.io, port);
    REQUIRE(run_until(m.c.io, [&] { return slow.connected(); }));
    slow.write(std::string("\x16\x03\x01\x02\x00", 5));  // a ClientHello's header, and no more
    CHECK(run_until(m.c.io, [&] { return slow.closed(); }));
    CHECK(m.refused(transport::refusal_reasons::tls_handshake) == 1);
    CHECK(m.logged("the TLS handshake timed out"));
  }
  SUBCASE("the member itself, for contrast") {
    Intruder member(m.c.io, port, certs().files("n3"));
    member.mesh().send(vote("n3", "n1", 55));
    CHECK(run_until(m.c.io, [&] {
      for (const auto& message : m.c.inbox("n1")) {
        if (message.term == 55) return true;
      }
      return false;
    }));
    CHECK(m.c.node("n1").refusals().empty());
  }
  CHECK(m.still_serving());
}

TEST_CASE(
    "tls: certificates reloaded from their files serve new connections; bad files change nothing") {
  SecureMesh m;
  REQUIRE(m.linked());
  // Rotation: n1 gets a new key and certificate at the same paths.
  const auto files = certs().files("n1");
  const auto keep_cert = files.certificate + ".kept";
  const auto keep_key = files.private_key + ".kept";
  std::filesystem::copy_file(files.certificate, keep_cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(files.private_key, keep_key,
                             std::filesystem::copy_options::overwrite_existing);
  certs().make("n1");
  CHECK(m.c.node("n1").reload_tls().empty());
  CHECK(m.logged("TLS certificates reloaded"));
  m.c.restart("n2");  // a new connection each way, under the new certificate
  REQUIRE(m.linked());
  CHECK(m.still_serving());

  std::filesystem::remove(files.private_key);
  const auto error = m.c.node("n1").reload_tls();
  CHECK(error.find("the TLS key " + files.private_key) == 0);
  m.c.restart("n2");  // the certificate in use stays
  REQUIRE(m.linked());
  CHECK(m.still_serving());
  std::filesystem::rename(keep_cert, files.certificate);
  std::filesystem::rename(keep_key, files.private_key);
}

// TLS 1.3 lets a peer ask for a KeyUpdate, which OpenSSL answers from
// inside SSL_read. The accepting side never writes after its welcome, so
// each answer waits in its TLS layer: a member that keeps asking must not
// grow n1's memory without bound. Its connection is closed, and n1 keeps
// serving.
TEST_CASE("tls: a peer that keeps requesting key updates is cut off, not buffered for") {
  // Declared before the mesh, whose teardown may still resume the flood.
  const auto hello =
      frame(transport::encode(transport::Hello{.version = transport::protocol_version,
                                               .cluster = "test-cluster",
                                               .from = "n3",
                                               .to = "n1"}));
  const auto message = frame(transport::encode(vote("n3", "n1", 77)));
  bool ended = false;
  int updates = 0;
  SecureMesh m;
  REQUIRE(m.linked());
  const auto flood = [&](asio::io_context& io, std::uint16_t port) -> asio::awaitable<void> {
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.use_certificate_chain_file(certs().files("n3").certificate);
    context.use_private_key_file(certs().files("n3").private_key, asio::ssl::context::pem);
    asio::ip::tcp::socket socket(io);
    co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                  transport::as_tuple_awaitable);
    asio::ssl::stream<asio::ip::tcp::socket&> stream(socket, context);
    auto [handshake] = co_await stream.async_handshake(asio::ssl::stream_base::client,
                                                       transport::as_tuple_awaitable);
    if (!handshake) {
      auto [error, sent] =
          co_await asio::async_write(stream, asio::buffer(hello), transport::as_tuple_awaitable);
      // Each update is followed by a message: OpenSSL refuses more than 32
      // updates in a row without application data.
      while (!error && updates < 20000) {
        SSL_key_update(stream.native_handle(), SSL_KEY_UPDATE_REQUESTED);
        ++updates;
        std::tie(error, sent) = co_await asio::async_write(stream, asio::buffer(message),
                                                           transport::as_tuple_awaitable);
      }
    }
    ended = true;
  };
  asio::co_spawn(m.c.io, flood(m.c.io, m.c.port("n1")), asio::detached);
  REQUIRE(run_until(
      m.c.io, [&] { return ended; }, std::chrono::seconds(60)));
  CAPTURE(updates);
  CHECK(updates < 20000);
  CHECK(
      m.logged("closing connection from n3: read: the peer's TLS messages (renegotiation or "
               "key update requests) made this side write over 64 KiB"));
  CHECK(m.still_serving());
}

// Connections that never prove who they are each hold a TLS handshake for
// up to two handshake timeouts: past max_unproven_connections, more are
// closed at once and counted, and the members keep talking.
TEST_CASE("tls: connections still unproven are capped; more are closed at once") {
  MeshCluster c{{"n1", "n2"}, [](transport::TcpMeshConfig& config) {
                  config.tls = certs().files(config.id);
                  config.handshake_timeout = std::chrono::seconds(4);  // outlasts the checks
                  config.max_unproven_connections = 3;
                }};
  REQUIRE(run_until(c.io, [&] { return c.all_connected(); }));
  const auto busy = [&] {
    const auto counts = c.node("n1").refusals();
    const auto found = counts.find(transport::refusal_reasons::busy);
    return found == counts.end() ? 0 : found->second;
  };
  std::vector<std::unique_ptr<RawPeer>> silent;
  for (int i = 0; i < 3; ++i) {
    silent.push_back(std::make_unique<RawPeer>(c.io, c.port("n1")));
    REQUIRE(run_until(c.io, [&] { return silent.back()->connected(); }));
  }
  CHECK(busy() == 0);
  RawPeer one_more(c.io, c.port("n1"));
  CHECK(run_until(c.io, [&] { return one_more.closed(); }));
  CHECK(busy() == 1);
  CHECK(std::none_of(silent.begin(), silent.end(), [](const auto& p) { return p->closed(); }));

  c.node("n2").send(vote("n2", "n1", 31));  // members are not held up
  CHECK(run_until(c.io, [&] { return !c.inbox("n1").empty() && c.inbox("n1").back().term == 31; }));
  // Once the silent ones time out, a member that reconnects is let in.
  CHECK(run_until(c.io, [&] {
    return std::all_of(silent.begin(), silent.end(), [](const auto& p) { return p->closed(); });
  }));
  c.restart("n2");
  CHECK(run_until(c.io, [&] { return c.all_connected(); }));
  CHECK(busy() == 1);
}
