// The WebSocket hub over TLS (wss://): channels that trust the hub's
// authority talk through it; a plaintext client, a client certificate of
// another authority, and a hub certificate that does not name the host
// the channel dialled are each refused, with a reason, while the members
// keep talking.

#include <doctest/doctest.h>

#include "support/dev_certs.hpp"
#include "support/tls_exchange.hpp"
#include "transport/ws_fixture.hpp"

using namespace conflux;
using namespace conflux::test;

namespace {

/// "hub" naming 127.0.0.1, "nameless" naming no address, members a, b, c,
/// and c by another authority ("other/c").
DevCerts& certs() {
  return made_once([](DevCerts& made) {
    made.make_in("other", "c", "--authority other");
    made.make("hub", "--san IP:127.0.0.1");
    made.make("nameless a b c");
  });
}

/// A wss:// hub with the certificate of `hub_id`, and a, b joined over TLS.
struct SecureHub {
  explicit SecureHub(const std::string& hub_id = "hub")
      : c([hub_id](transport::WsHubConfig& config) { config.tls = certs().files(hub_id); }) {
    c.channel_tweak = [](transport::WsChannelConfig& config) {
      config.tls = certs().files(config.id);
    };
  }
  bool talks(raft::Term term) {
    c.channel("a").send(vote("a", "b", term));
    return run_until(c.io, [&] { return c.received("b", term); });
  }
  std::string last_error(const raft::NodeId& id) {
    const auto links = c.channel(id).relay_links();
    return links.empty() ? "" : links.front().last_error;
  }
  HubCluster c;
};

}  // namespace

TEST_CASE("wss hub: channels that trust the authority connect over TLS and talk") {
  SecureHub s;
  s.c.join("x", {"a", "b"});
  REQUIRE(run_until(s.c.io, [&] { return s.c.all_connected(); }));
  CHECK(s.talks(7));
  CHECK(s.c.hub().stats().tls_handshake == 0);
  CHECK(s.c.hub().reload_tls().empty());
  CHECK(s.talks(8));
}

TEST_CASE("wss hub: a plaintext client is refused at the handshake, counted and logged") {
  SecureHub s;
  s.c.join("x", {"a", "b"});
  REQUIRE(run_until(s.c.io, [&] { return s.c.all_connected(); }));
  RawWsClient plain(s.c.io, s.c.port(), "/x", {{hub_hello("c")}});
  REQUIRE(run_until(s.c.io, [&] { return s.c.hub().stats().tls_handshake == 1; }));
  CHECK_FALSE(plain.upgraded());
  CHECK(s.c.logged("TLS handshake"));
  CHECK(s.c.hub().members("x") == std::vector<raft::NodeId>{"a", "b"});
  CHECK(s.talks(9));
}

TEST_CASE("wss hub: a client certificate of another authority is refused") {
  SecureHub s;
  s.c.join("x", {"a", "b"});
  REQUIRE(run_until(s.c.io, [&] { return s.c.all_connected(); }));
  // A WsChannel would not even start with it (below); a raw TLS client does.
  const auto intruder = start_tls_exchange(s.c.io, s.c.port(), certs().files("c", "other"),
                                           "GET /x HTTP/1.1\r\n\r\n");
  REQUIRE(run_until(s.c.io, [&] { return intruder->done; }));
  CHECK(s.c.hub().stats().tls_handshake == 1);
  CHECK(s.c.logged("TLS handshake: the peer's certificate"));
  CHECK(s.talks(10));

  transport::WsChannelConfig config;
  config.id = "c";
  config.hub = "wss://127.0.0.1:" + std::to_string(s.c.port()) + "/x";
  config.tls = certs().files("c", "other");
  CHECK_THROWS_WITH_AS(transport::WsChannel(s.c.io.get_executor(), config, {}),
                       doctest::Contains("unable to get local issuer certificate"),
                       std::invalid_argument);
}

TEST_CASE("wss hub: a channel refuses a hub whose certificate does not name the host it dialled") {
  SecureHub s("nameless");  // the authority's, but not naming 127.0.0.1
  s.c.join("x", {"a"});
  REQUIRE(run_until(s.c.io, [&] { return !s.last_error("a").empty(); }));
  CHECK(s.last_error("a").find("TLS with the hub failed: the peer's certificate: IP address "
                               "mismatch") != std::string::npos);
  CHECK(s.c.logged("IP address mismatch"));
  CHECK(s.c.hub().members("x").empty());
}

TEST_CASE("wss hub: files that cannot be used are refused by name") {
  transport::WsHubConfig config;
  config.tls = certs().files("hub");
  config.tls.private_key = certs().path("missing.key").string();
  asio::io_context io;
  CHECK_THROWS_WITH_AS(transport::WsHub(io.get_executor(), config),
                       doctest::Contains("missing.key"), std::invalid_argument);
}
