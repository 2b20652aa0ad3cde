// conflux-node with TLS between peers, HTTPS and a token on the HTTP API
// (docs/operations.md, "Security"), as processes: every refusal happens
// against a live cluster, which keeps committing; certificates rotate by
// SIGHUP without losing an acknowledged action.

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/frame.hpp>
#include <conflux/transport/port_reservation.hpp>
#include <csignal>
#include <fstream>
#include <iterator>

#include "apps/daemon_cluster.hpp"
#include "apps/poll_until.hpp"
#include "support/dev_certs.hpp"
#include "support/tls_exchange.hpp"

using namespace conflux;
using namespace conflux::test;
namespace json = boost::json;

namespace {

const std::string token = "s3cret-token-for-the-tests";

/// Certificates for n1..n3 and n9, n3's from another authority ("other/")
/// and expired ("old/"), a hub's naming 127.0.0.1, and the token's file.
struct Credentials {
  DevCerts certs;
  Credentials() {
    certs.make_in("other", "n3", "--authority other");
    certs.make_in("old", "n3", "--expired");
    certs.make("hub", "--san IP:127.0.0.1");
    certs.make("n1 n2 n3 n9");
    std::ofstream(certs.path("token")) << token << "\n";
  }
  std::vector<std::string> flags(const std::vector<std::string>& more = {}) const {
    std::vector<std::string> all{"--tls-cert",   certs.path("{id}.pem").string(),
                                 "--tls-key",    certs.path("{id}.key").string(),
                                 "--tls-ca",     certs.path("ca.pem").string(),
                                 "--token-file", certs.path("token").string()};
    all.insert(all.end(), more.begin(), more.end());
    return all;
  }
  /// What the tests' client presents: the authority, and the token.
  DaemonClient client() const {
    DaemonClient client;
    client.tls = authority_only();
    client.token = token;
    return client;
  }
  transport::TlsFiles authority_only() const {
    transport::TlsFiles files;
    files.authority = certs.path("ca.pem").string();
    return files;
  }
};

std::uint64_t refused(const DaemonCluster& cluster, std::size_t i, const std::string& reason) {
  const auto reply = cluster.request(i, "GET", "/status");
  if (reply.status != 200) return 0;
  const auto* count = json::parse(reply.body).at("refusals").as_object().if_contains(reason);
  return count ? count->to_number<std::uint64_t>() : 0;
}

bool commits(const DaemonCluster& cluster, int n) {
  const auto key = "k" + std::to_string(n);
  return cluster.perform(n % 3, "put", json::array{key, n}).status == 200;
}

/// Starts conflux-node as n3 with these certificate files; what it said
/// once it exited (it must not start).
std::string start_as_n3(const DaemonCluster& cluster, const Credentials& c,
                        const std::string& certificate, const std::string& key) {
  const auto log = cluster.directory() / "refused-start.log";
  const transport::PortReservation peer_port;
  ChildProcess node(
      node_binary(),
      {"--id", "n3", "--listen", peer_port.address(), "--http", "127.0.0.1:0", "--in-memory",
       "--tls-cert", certificate, "--tls-key", key, "--tls-ca", c.certs.path("ca.pem").string()},
      log);
  const auto status = node.wait_for_exit(10s);
  std::ifstream file(log);
  std::string said((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return (status ? describe_status(*status) : std::string("still running")) + ": " + said;
}

std::string text_of(const std::filesystem::path& path) {
  std::ifstream file(path);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("security: strangers are refused by reason while the TLS cluster keeps committing") {
  const Credentials c;
  DaemonCluster cluster(3, c.flags(), c.client());
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader(15s));
  int n = 0;
  REQUIRE(commits(cluster, ++n));

  // The HTTP API: no token, a wrong token, plain HTTP on the HTTPS port.
  const auto none =
      https_request(cluster.http_port(0), "POST", "/perform/put", R"(["x",1])", c.authority_only());
  CHECK(none.status == 401);
  CHECK(none.header("www-authenticate") == "Bearer realm=\"conflux\"");
  const auto wrong = https_request(cluster.http_port(0), "POST", "/perform/put", R"(["x",1])",
                                   c.authority_only(), {{"Authorization", "Bearer not-the-token"}});
  CHECK(wrong.status == 401);
  CHECK(wrong.body.find("a wrong bearer token") != std::string::npos);
  CHECK(http_request(cluster.http_port(0), "GET", "/status").status == 0);
  // A client certificate of the authority stands for the token if it names
  // a member; n9's (of the authority, not a member) does not.
  const auto by_member = https_request(cluster.http_port(0), "POST", "/perform/put", R"(["y",2])",
                                       c.certs.files("n3"));
  CHECK(by_member.status == 200);
  const auto by_stranger = https_request(cluster.http_port(0), "POST", "/perform/put", R"(["z",3])",
                                         c.certs.files("n9"));
  CHECK(by_stranger.status == 401);
  CHECK(by_stranger.body.find("which is not trusted, and no token") != std::string::npos);
  const auto metrics = cluster.request(0, "GET", "/metrics").body;
  CHECK(metrics.find("conflux_http_refused_total{reason=\"unauthorized\"} 3") != std::string::npos);
  CHECK(metrics.find("conflux_http_refused_total{reason=\"tls_handshake\"} 1") !=
        std::string::npos);
  CHECK(commits(cluster, ++n));

  // The peer port: plaintext, and a TLS handshake that stalls.
  {
    HttpConnection plain(cluster.peer_port(0), 10s);
    REQUIRE(plain.send(std::string("\0\0\0\x05hello", 9)));
    CHECK(plain.closed_by_server());
  }
  CHECK(poll_until([&] { return refused(cluster, 0, "tls_handshake") >= 1; }, 5s));
  {
    HttpConnection stalled(cluster.peer_port(0), 10s);
    REQUIRE(stalled.send(std::string("\x16\x03\x01\x02\x00", 5)));  // a ClientHello's header only
    CHECK(stalled.closed_by_server());                              // after the handshake timeout
  }
  CHECK(refused(cluster, 0, "tls_handshake") >= 2);
  CHECK(commits(cluster, ++n));

  // Peers that cannot prove they are n3 (raw TLS clients: conflux-node
  // refuses to start with these certificates, below).
  const auto dir = [&](const std::string& d, const std::string& f) {
    return c.certs.path(d + "/" + f).string();
  };
  struct Attempt {
    std::string name, certificate, key, reason, logged;
  };
  const std::vector<Attempt> attempts{
      {"another authority", dir("other", "n3.pem"), dir("other", "n3.key"), "certificate",
       "unable to get local issuer certificate"},
      {"expired", dir("old", "n3.pem"), dir("old", "n3.key"), "certificate",
       "certificate has expired"},
      {"valid, but naming n9", c.certs.path("n9.pem").string(), c.certs.path("n9.key").string(),
       "identity", "its certificate does not name \"n3\""}};
  std::string hello;
  transport::append_frame(
      hello,
      transport::encode(transport::Hello{
          .version = transport::protocol_version, .cluster = "conflux", .from = "n3", .to = "n1"}));
  for (const auto& attempt : attempts) {
    CAPTURE(attempt.name);
    const auto before = refused(cluster, 0, attempt.reason);
    tls_exchange(cluster.peer_port(0),
                 {.certificate = attempt.certificate, .private_key = attempt.key, .authority = ""},
                 hello);
    CHECK(poll_until([&] { return refused(cluster, 0, attempt.reason) > before; }, 10s));
    CHECK(cluster.logs().find(attempt.logged) != std::string::npos);
    CHECK(commits(cluster, ++n));
  }
  // A node given such a certificate says so and does not start.
  CHECK(start_as_n3(cluster, c, dir("old", "n3.pem"), dir("old", "n3.key"))
            .find("exit 2: conflux-node: the TLS certificate " + dir("old", "n3.pem") +
                  ": certificate has expired") != std::string::npos);
  CHECK(start_as_n3(cluster, c, c.certs.path("n9.pem").string(), c.certs.path("n9.key").string())
            .find("does not name \"n3\"") != std::string::npos);
  CHECK(cluster.wait_for_same_state(10s));
}

TEST_CASE("security: certificates rotated, then reloaded by SIGHUP, lose no acknowledged action") {
  Credentials c;
  DaemonCluster cluster(3, c.flags(), c.client());
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader(15s));
  std::vector<int> acknowledged;
  const auto write = [&](int n) {
    if (commits(cluster, n)) acknowledged.push_back(n);
  };
  for (int n = 1; n <= 20; ++n) write(n);
  c.certs.make("n1 n2 n3");  // new keys and certificates at the same paths
  for (std::size_t i = 0; i < 3; ++i) cluster.process(i).hangup();
  CHECK(poll_until(
      [&] { return cluster.logs().find("SIGHUP: TLS files read again") != std::string::npos; },
      5s));
  for (int n = 21; n <= 40; ++n) write(n);
  cluster.process(1).kill();  // its connections, and its peers' to it, are made anew
  cluster.start(1);
  REQUIRE(cluster.wait_for_leader(15s));
  for (int n = 41; n <= 60; ++n) write(n);
  CHECK(acknowledged.size() >= 50);
  const auto state = cluster.wait_for_same_state(15s);
  REQUIRE(state);
  for (const auto n : acknowledged) CHECK(state->as_object().contains("k" + std::to_string(n)));
}

TEST_CASE("security: removing a member withdraws the trust its client certificate had") {
  const Credentials c;
  DaemonCluster cluster(3, c.flags(), c.client());
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader(15s));
  const auto as_n3 = [&] {
    return https_request(cluster.http_port(0), "POST", "/perform/put", R"(["by-n3",1])",
                         c.certs.files("n3"))
        .status;
  };
  REQUIRE(as_n3() == 200);
  REQUIRE(cluster.request(0, "DELETE", "/members/n3").status == 200);
  // Node 1 applies the removal when it commits; from then on n3's
  // certificate no longer stands for the token.
  CHECK(poll_until([&] { return as_n3() == 401; }, 10s));
  CHECK(commits(cluster, 1));
}

TEST_CASE(
    "security: --public-reads serves reads without the token, never writes; the dashboard "
    "needs the token, over HTTPS") {
  const Credentials c;
  DaemonCluster cluster(1, c.flags({"--public-reads", "--dashboard", "127.0.0.1:0"}), c.client());
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader(15s));
  const auto anonymous = [&](const std::string& method, const std::string& target,
                             const std::string& body) {
    const auto reply =
        https_request(cluster.http_port(0), method, target, body, c.authority_only());
    INFO(reply);
    return reply.status;
  };
  CHECK(anonymous("GET", "/status", "") == 200);
  CHECK(anonymous("GET", "/state", "") == 200);
  CHECK(anonymous("POST", "/perform/put", R"(["k",1])") == 401);
  CHECK(anonymous("POST", "/members", R"({"id":"n9","address":"127.0.0.1:1"})") == 401);
  CHECK(cluster.perform(0, "put", json::array{"k", 1}).status == 200);

  // The dashboard's WebSocket reads every node and performs on any.
  const auto logs = cluster.logs();
  const std::string shown = "dashboard on https://127.0.0.1:";
  const auto at = logs.find(shown);
  REQUIRE(at != std::string::npos);
  const auto port = static_cast<std::uint16_t>(std::stoi(logs.substr(at + shown.size())));
  const auto get = [&](const std::string& target, const HttpHeaders& headers) {
    return https_request(port, "GET", target, "", c.authority_only(), headers).status;
  };
  const HttpHeaders upgrade{{"Upgrade", "websocket"},
                            {"Connection", "Upgrade"},
                            {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                            {"Sec-WebSocket-Version", "13"}};
  CHECK(get("/ws", upgrade) == 401);
  CHECK(get("/ws?token=wrong-token-0123456", upgrade) == 401);
  CHECK(get("/ws?token=" + token, upgrade) == 101);
  CHECK(get("/?token=" + token, {}) == 200);  // the page, as opened
  CHECK(get("/favicon.ico", {}) == 404);
  CHECK(http_request(port, "GET", "/?token=" + token).status == 0);  // no plain HTTP
}

TEST_CASE(
    "security: a cluster over a wss:// conflux-hub commits; a node without TLS or the token "
    "is refused") {
  const Credentials c;
  const transport::PortReservation hub_port;
  const auto port = std::to_string(hub_port.port());
  const auto hub_log = c.certs.path("hub.log");
  ChildProcess hub(CONFLUX_HUB_BINARY,
                   {"--listen", "127.0.0.1:" + port, "--token-file", c.certs.path("token").string(),
                    "--tls-cert", c.certs.path("hub.pem").string(), "--tls-key",
                    c.certs.path("hub.key").string(), "--tls-ca", c.certs.path("ca.pem").string()},
                   hub_log);
  const auto url = "wss://127.0.0.1:" + port + "/procs";
  DaemonCluster cluster(3, c.flags({"--channel", "ws", "--hub", url}), c.client());
  INFO(cluster.logs(), text_of(hub_log));
  REQUIRE(cluster.wait_for_leader(15s));
  int n = 0;
  REQUIRE(commits(cluster, ++n));

  // n9, over plain ws:// with the token, then over wss:// without it.
  const auto stranger = [&](const std::string& hub_url, const std::vector<std::string>& more) {
    std::vector<std::string> args{"--id",  "n9",     "--channel",   "ws",         "--hub",
                                  hub_url, "--http", "127.0.0.1:0", "--in-memory"};
    for (const auto* id : {"n1", "n2", "n3", "n9"})
      args.insert(args.end(), {"--peer", std::string(id) + "=127.0.0.1:1"});
    args.insert(args.end(), more.begin(), more.end());
    return std::make_unique<ChildProcess>(node_binary(), args, cluster.directory() / "n9.log");
  };
  auto plain = stranger("ws://127.0.0.1:" + port + "/procs",
                        {"--token-file", c.certs.path("token").string()});
  CHECK(
      poll_until([&] { return text_of(hub_log).find("TLS handshake") != std::string::npos; }, 10s));
  CHECK(commits(cluster, ++n));
  plain.reset();
  auto tokenless =
      stranger(url, {"--tls-cert", c.certs.path("n9.pem").string(), "--tls-key",
                     c.certs.path("n9.key").string(), "--tls-ca", c.certs.path("ca.pem").string()});
  CHECK(poll_until(
      [&] { return text_of(hub_log).find("no token: this hub needs") != std::string::npos; }, 10s));
  CHECK(commits(cluster, ++n));
}
