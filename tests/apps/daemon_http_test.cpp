// conflux-node's HTTP surface, against a running node: limits, malformed
// and slow requests, keep-alive, pipelining, and /metrics read by a strict
// Prometheus text parser. After every abuse the node must still serve.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apps/daemon_cluster.hpp"
#include "apps/daemon_replies.hpp"
#include "apps/prometheus_text.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// A one-node cluster commits alone: --max-body and --http-timeout small
// enough to hit quickly.
const std::vector<std::string> small_limits{"--max-body", "1024", "--http-timeout", "500"};

/// The "code" of an error answer.
std::string code_of(const HttpReply& reply) {
  return field_of(reply, "code");
}

void check_still_serving(const DaemonCluster& cluster) {
  CHECK(cluster.status(0));
  const json::array args{json::value("alive"), json::value(true)};
  const auto reply = cluster.perform(0, "put", args);
  CHECK_MESSAGE(reply.status == 200, reply);
}

HttpReply post(const DaemonCluster& cluster, const std::string& target, const std::string& body) {
  return http_request(cluster.http_port(0), "POST", target, body);
}

}  // namespace

TEST_CASE("a body over the limit gets 413: --max-body, and 1 MiB by default") {
  DaemonCluster small(1, small_limits);
  DaemonCluster by_default(1);
  INFO(small.logs(), by_default.logs());
  REQUIRE(small.wait_for_leader());
  REQUIRE(by_default.wait_for_leader());
  const auto padded = [](std::size_t size) {
    return "[\"k\", \"" + std::string(size, 'x') + "\"]";
  };

  auto reply = post(small, "/perform/put", padded(2000));
  CHECK(reply.status == 413);
  CHECK(code_of(reply) == "body_too_large");
  CHECK(boost::json::parse(reply.body).at("retryable") == false);  // shaped as every error
  CHECK(post(small, "/perform/put", padded(900)).status == 200);
  check_still_serving(small);

  reply = post(by_default, "/perform/put", padded(2 << 20));
  CHECK(reply.status == 413);
  CHECK(code_of(reply) == "body_too_large");
  CHECK(post(by_default, "/perform/put", padded(512 << 10)).status == 200);
  check_still_serving(by_default);
}

TEST_CASE("bad requests get 400, 404, 405 or 409 with an error code, and the node still serves") {
  DaemonCluster cluster(1, small_limits);
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());
  const auto port = cluster.http_port(0);

  auto reply = post(cluster, "/perform/put", "[\"k\", ");
  CHECK(reply.status == 400);
  CHECK(code_of(reply) == "bad_json");
  reply = post(cluster, "/perform/put", R"({"k": 1})");
  CHECK(reply.status == 400);
  CHECK(code_of(reply) == "not_an_array");
  reply = http_request(port, "GET", "/nowhere");
  CHECK(reply.status == 404);
  CHECK(code_of(reply) == "not_found");
  reply = http_request(port, "GET", "/perform/put");
  CHECK(reply.status == 405);
  CHECK(reply.header("allow") == "POST");
  CHECK(http_request(port, "DELETE", "/state").status == 405);
  reply = post(cluster, "/perform/no_such_method", "[]");
  CHECK(reply.status == 404);
  CHECK(code_of(reply) == "unknown_method");
  check_still_serving(cluster);

  REQUIRE(post(cluster, "/perform/put", R"(["k", "a"])").status == 200);
  reply = post(cluster, "/perform/cas", R"(["k", "x", "y"])");
  CHECK(reply.status == 409);
  CHECK(code_of(reply) == "method_failed");
  CHECK(body_of(reply).at("retryable") == false);
  const std::string message(body_of(reply).at("error").as_string());
  CHECK(message.find(R"(expected "x")") != std::string::npos);
  CHECK(message.find(R"(found "a")") != std::string::npos);
  check_still_serving(cluster);
}

TEST_CASE("a browser's POST for a page of another site gets 403 and changes nothing") {
  DaemonCluster cluster(1);
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());
  const auto port = cluster.http_port(0);
  const HttpHeaders foreign{{"Origin", "http://evil.example"}};
  auto reply = http_request(port, "POST", "/perform/put", R"(["evil", 1])", 5s, foreign);
  CHECK(reply.status == 403);
  CHECK(code_of(reply) == "cross_origin");
  const HttpHeaders own{{"Origin", "http://127.0.0.1"}};  // the client's Host is 127.0.0.1
  REQUIRE(http_request(port, "POST", "/perform/put", R"(["own", 2])", 5s, own).status == 200);
  CHECK(body_of(http_request(port, "GET", "/state")) == json::value{{"own", 2}});
  CHECK(http_request(port, "GET", "/metrics")
            .body.find("conflux_http_refused_total{reason=\"cross_origin\"} 1") !=
        std::string::npos);
}

TEST_CASE(
    "reads: /state and /query/get take consistency=linearizable, and refuse what they cannot") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  REQUIRE(cluster.perform(*leader, "put", boost::json::array{"k", 7}).status == 200);
  for (std::size_t i = 0; i < 3; ++i) {  // a follower's read waits until it has applied the put
    auto reply = http_request(cluster.http_port(i), "GET", "/state?consistency=linearizable");
    CHECK_MESSAGE(reply.status == 200, reply);
    CHECK(reply.body == R"({"k":7})");
    reply = http_request(cluster.http_port(i), "POST", "/query/get?consistency=linearizable",
                         R"(["k"])");
    CHECK_MESSAGE(reply.status == 200, reply);
    CHECK(body_of(reply).at("result") == 7);
  }
  const auto port = cluster.http_port(0);
  auto reply = http_request(port, "GET", "/state?consistency=eventual");
  CHECK(reply.status == 400);
  CHECK(code_of(reply) == "bad_query");
  reply = http_request(port, "GET", "/state?provisional=true&consistency=linearizable");
  CHECK(reply.status == 400);
  reply = http_request(port, "GET", "/state?colour=blue");
  CHECK(reply.status == 400);
  CHECK(http_request(port, "GET", "/state?consistency=local").status == 200);
  CHECK(http_request(port, "GET", "/state?provisional=true").status == 200);
}

TEST_CASE(
    "sessions: POST /sessions opens one; a perform sent again with its Conflux-Client and "
    "Conflux-Seq, to any node, gets the first answer and is applied once") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());
  const auto opened = http_request(cluster.http_port(1), "POST", "/sessions", "");
  REQUIRE_MESSAGE(opened.status == 200, opened);
  const auto client = std::to_string(body_of(opened).at("client").to_number<std::uint64_t>());
  const HttpHeaders first{{"Conflux-Client", client}, {"Conflux-Seq", "1"}};
  for (std::size_t i = 0; i < 3; ++i) {  // a lost answer, asked again of every node
    const auto reply = http_request(cluster.http_port(i), "POST", "/perform/append",
                                    R"(["log","x;"])", std::chrono::seconds(5), first);
    CHECK_MESSAGE(reply.status == 200, reply);
  }
  const HttpHeaders second{{"Conflux-Client", client}, {"conflux-seq", "2"}, {"Conflux-Ack", "2"}};
  for (std::size_t i = 0; i < 2; ++i) {  // a refusal is recorded and repeated too
    const auto reply = http_request(cluster.http_port(i), "POST", "/perform/cas",
                                    R"(["log","nope","y;"])", std::chrono::seconds(5), second);
    CHECK(reply.status == 409);
  }
  const auto state = cluster.wait_for_same_state();
  REQUIRE(state);
  CHECK(state->at("log") == "x;");

  const auto port = cluster.http_port(0);
  const auto stale = http_request(port, "POST", "/perform/append", R"(["log","z;"])",
                                  std::chrono::seconds(5), first);
  CHECK(stale.status == 409);
  CHECK(code_of(stale) == "stale_sequence");
  const auto unknown =
      http_request(port, "POST", "/perform/append", R"(["log","z;"])", std::chrono::seconds(5),
                   {{"Conflux-Client", "9007199254740991"}, {"Conflux-Seq", "1"}});
  CHECK(unknown.status == 410);
  CHECK(code_of(unknown) == "session_expired");
  for (const HttpHeaders& bad :
       {HttpHeaders{{"Conflux-Client", client}},
        HttpHeaders{{"Conflux-Client", "0"}, {"Conflux-Seq", "1"}},
        HttpHeaders{{"Conflux-Client", client}, {"Conflux-Seq", "1x"}},
        HttpHeaders{{"Conflux-Client", "9007199254740992"}, {"Conflux-Seq", "1"}}}) {
    const auto reply = http_request(port, "POST", "/perform/append", R"(["log","z;"])",
                                    std::chrono::seconds(5), bad);
    CHECK(reply.status == 400);
    CHECK(code_of(reply) == "bad_session");
  }
  CHECK(http_request(port, "POST", "/sessions", R"({"idle_timeout_ms":5})").status == 400);
  CHECK(http_request(port, "POST", "/sessions", "[]").status == 400);
  CHECK(http_request(port, "GET", "/sessions").status == 405);
  check_still_serving(cluster);
}

TEST_CASE("a half-sent request gets 408 after --http-timeout; a garbage request line gets 400") {
  DaemonCluster cluster(1, small_limits);  // --http-timeout 500
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());

  for (const std::string partial :
       {"POST /perform/put HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le",
        "POST /perform/put HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n[\"k\""}) {
    CAPTURE(partial);
    HttpConnection connection(cluster.http_port(0), 5s);
    const auto started = Clock::now();
    REQUIRE(connection.send(partial));
    const auto reply = connection.receive();
    const auto waited = Clock::now() - started;
    CHECK_MESSAGE(reply.status == 408, reply);
    CHECK(code_of(reply) == "request_timeout");
    CHECK(waited >= 450ms);
    CHECK(waited < 3s);
    CHECK(connection.closed_by_server());
  }
  check_still_serving(cluster);

  HttpConnection connection(cluster.http_port(0), 5s);
  REQUIRE(connection.send("GARBAGE\r\n\r\n"));
  const auto reply = connection.receive();
  CHECK_MESSAGE(reply.status == 400, reply);
  CHECK(code_of(reply) == "malformed_request");
  CHECK(connection.closed_by_server());
  check_still_serving(cluster);
}

TEST_CASE("one connection carries several requests, and pipelined requests are answered in order") {
  DaemonCluster cluster(1, small_limits);
  INFO(cluster.logs());
  REQUIRE(cluster.wait_for_leader());

  HttpConnection keep_alive(cluster.http_port(0), 5s);
  for (int i = 0; i < 5; ++i) {
    const auto body = "[\"ka\", " + std::to_string(i) + "]";
    const auto reply = keep_alive.request("POST", "/perform/put", body);
    CHECK_MESSAGE(reply.status == 200, reply);
    CHECK(reply.keep_alive);
    CHECK(keep_alive.request("GET", "/state").body.find("\"ka\":" + std::to_string(i)) !=
          std::string::npos);
  }

  HttpConnection pipelined(cluster.http_port(0), 5s);
  std::string three;
  for (int i = 1; i <= 3; ++i) {
    three += request_bytes("POST", "/perform/put", "[\"p" + std::to_string(i) + "\", 0]");
  }
  REQUIRE(pipelined.send(three));  // one write: all three arrive together
  for (int i = 1; i <= 3; ++i) {
    const auto reply = pipelined.receive();
    REQUIRE_MESSAGE(reply.status == 200, reply);
    CHECK(body_of(reply).at("result").at("k") == json::value("p" + std::to_string(i)));
  }
  check_still_serving(cluster);
}

TEST_CASE("/metrics is strict Prometheus text with the node's families, and counts performs") {
  DaemonCluster cluster(3);
  INFO(cluster.logs());
  const auto found = cluster.wait_for_leader();
  REQUIRE(found);
  const auto leader = *found;  // the one node that sends to every peer
  const auto before = scrape(cluster, leader);
  for (int i = 0; i < 3; ++i) {
    const json::array args{json::value("m"), json::value(i)};
    REQUIRE(cluster.perform(leader, "put", args).status == 200);
  }
  const auto after = scrape(cluster, leader);

  for (const auto& [name, type] :
       std::map<std::string, std::string>{{"conflux_term", "gauge"},
                                          {"conflux_role", "gauge"},
                                          {"conflux_elections_total", "counter"},
                                          {"conflux_entries_applied_total", "counter"},
                                          {"conflux_perform_latency_seconds", "histogram"},
                                          {"conflux_fsync_latency_seconds", "histogram"},
                                          {"conflux_peer_sent_bytes_total", "counter"},
                                          {"conflux_peer_dropped_frames_total", "counter"}}) {
    CAPTURE(name);
    REQUIRE(after.count(name));
    CHECK(after.at(name).type == type);
  }
  CHECK(after.at("conflux_role").value("conflux_role", {{"role", "leader"}}) == 1);
  CHECK(after.at("conflux_role").value("conflux_role", {{"role", "follower"}}) == 0);
  const auto status = cluster.status(leader);
  REQUIRE(status);
  CHECK(after.at("conflux_term").value("conflux_term") == status->term);
  const auto count = [](const auto& families, const std::string& histogram) {
    return families.at(histogram).value(histogram + "_count");
  };
  CHECK(count(after, "conflux_perform_latency_seconds") >=
        count(before, "conflux_perform_latency_seconds") + 3);
  CHECK(count(after, "conflux_fsync_latency_seconds") > 0);  // durable: every write is synced
  CHECK(after.at("conflux_entries_applied_total").value("conflux_entries_applied_total") >=
        before.at("conflux_entries_applied_total").value("conflux_entries_applied_total") + 3);
  for (std::size_t peer = 0; peer < cluster.size(); ++peer) {
    if (peer == leader) continue;
    CHECK(after.at("conflux_peer_sent_bytes_total")
              .value("conflux_peer_sent_bytes_total", {{"peer", cluster.id(peer)}}) > 0);
  }
}

// The parser above must be able to fail: each text breaks one rule.
TEST_CASE("the Prometheus text parser rejects what the exposition format forbids") {
  const std::string histogram =
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";
  CHECK(parse_prometheus_text(histogram).at("h").value("h_count") == 2);
  CHECK(parse_prometheus_text("# HELP c Help \\n.\n# TYPE c counter\nc{a=\"x\\\"y\",} 1 123\n")
            .at("c")
            .value("c", {{"a", "x\"y"}}) == 1);
  for (const std::string broken : {
           "c 1\n",                                         // no TYPE line
           "# TYPE c counter\nc 1",                         // no final newline
           "# TYPE c counter\nc -1\n",                      // negative counter
           "# TYPE c counter\nc 1\nc 2\n",                  // the same series twice
           "# TYPE c counter\nc{a=\"\\x\"} 1\n",            // bad escape
           "# TYPE c counter\nc{a=\"x\"\n",                 // unterminated labels
           "# TYPE c counter\nc one\n",                     // bad value
           "# TYPE c counter\n# TYPE g gauge\ng 1\nc 1\n",  // c's lines not contiguous
           "# TYPE c counter\nc 1\n# TYPE c gauge\n",       // TYPE after samples
           "# TYPE c bogus\n",                              // unknown type
           "# TYPE h histogram\nh_bucket{le=\"2\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count "
           "1\n",
           "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",     // no +Inf
           "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",  // +Inf != count
           "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",           // no _sum
       }) {
    CAPTURE(broken);
    CHECK_THROWS_AS(parse_prometheus_text(broken), ExpositionError);
  }
}

}  // namespace conflux::test
