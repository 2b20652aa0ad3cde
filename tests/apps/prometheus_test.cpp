// The Prometheus text rendering of /metrics, and the errc -> HTTP mapping.

#include "prometheus.hpp"

#include <doctest/doctest.h>

#include "node_api.hpp"

using namespace conflux;
using namespace conflux::server;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("prometheus: gauges, counters, cumulative histogram buckets and escaped labels") {
  NodeStatus status{.id = "n1",
                    .role = "leader",
                    .term = 7,
                    .leader = "n1",
                    .commit = 40,
                    .applied = 39,
                    .last_index = 41,
                    .error = "",
                    .peers = {},
                    .links = {{.name = "redis_subscriber",
                               .endpoint = "127.0.0.1:6379",
                               .up = true,
                               .connects = 3,
                               .last_error = "lost the subscription"}},
                    .isolated = false,
                    .refusals = {{"identity", 2}}};
  NodeMetrics metrics;
  metrics.elections = 2;
  metrics.performs_succeeded = 3;
  metrics.performs_failed["timeout"] = 1;
  metrics.perform_latency.observe(0.0002);
  metrics.perform_latency.observe(0.0002);
  metrics.perform_latency.observe(0.003);
  metrics.peers.push_back(PeerTraffic{.id = "we\"ird\\id",
                                      .connected = true,
                                      .bytes_in = 10,
                                      .bytes_out = 20,
                                      .frames_in = 1,
                                      .frames_out = 2,
                                      .dropped = {{"queue_full", 4}}});
  HttpCounters http;
  http.responses[200] = 5;
  const auto text = prometheus_text(status, metrics, &http);

  CHECK(text.starts_with("# HELP conflux_term "));
  CHECK(has_line(text, "# TYPE conflux_term gauge"));
  CHECK(has_line(text, "conflux_term 7"));
  CHECK(has_line(text, "conflux_role{role=\"leader\"} 1"));
  CHECK(has_line(text, "conflux_role{role=\"follower\"} 0"));
  CHECK(has_line(text, "conflux_commit_index 40"));
  CHECK(has_line(text, "conflux_refused_connections_total{reason=\"identity\"} 2"));
  CHECK(has_line(text, "conflux_elections_total 2"));
  CHECK(has_line(text, "conflux_performs_total{outcome=\"ok\"} 3"));
  CHECK(has_line(text, "conflux_performs_total{outcome=\"timeout\"} 1"));
  CHECK(has_line(text, "# TYPE conflux_perform_latency_seconds histogram"));
  CHECK(has_line(text, "conflux_perform_latency_seconds_bucket{le=\"0.0001\"} 0"));
  CHECK(has_line(text, "conflux_perform_latency_seconds_bucket{le=\"0.00025\"} 2"));
  CHECK(has_line(text, "conflux_perform_latency_seconds_bucket{le=\"0.0025\"} 2"));
  CHECK(has_line(text, "conflux_perform_latency_seconds_bucket{le=\"0.005\"} 3"));
  CHECK(has_line(text, "conflux_perform_latency_seconds_bucket{le=\"+Inf\"} 3"));
  CHECK(has_line(text, "conflux_perform_latency_seconds_count 3"));
  CHECK(has_line(text, "conflux_peer_sent_bytes_total{peer=\"we\\\"ird\\\\id\"} 20"));
  CHECK(has_line(
      text, "conflux_peer_dropped_frames_total{peer=\"we\\\"ird\\\\id\",reason=\"queue_full\"} 4"));
  CHECK(has_line(text, "conflux_relay_link_up{link=\"redis_subscriber\"} 1"));
  CHECK(has_line(text, "conflux_relay_link_connects_total{link=\"redis_subscriber\"} 3"));
  CHECK(has_line(text, "conflux_http_responses_total{code=\"200\"} 5"));
  CHECK(text.ends_with("\n"));
}

TEST_CASE("http status: each perform error maps to its documented status") {
  CHECK(http_status_for(errc::unknown_method) == 404);
  CHECK(http_status_for(errc::method_failed) == 409);
  CHECK(http_status_for(errc::reducer_failed) == 409);
  CHECK(http_status_for(errc::bad_arguments) == 400);
  CHECK(http_status_for(errc::no_leader) == 503);
  CHECK(http_status_for(errc::leadership_lost) == 503);
  CHECK(http_status_for(errc::closed) == 503);
  CHECK(http_status_for(errc::timeout) == 504);
  CHECK(http_status_for(errc::outcome_unknown) == 504);
}
