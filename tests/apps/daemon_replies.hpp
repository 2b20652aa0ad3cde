#pragma once
// Reading conflux-node's answers in the daemon tests: JSON bodies, their
// fields, and /metrics through the strict Prometheus text parser.

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <string>

#include "apps/daemon_cluster.hpp"
#include "apps/prometheus_text.hpp"

namespace conflux::test {

/// The reply's body as JSON; null if it is not JSON.
inline boost::json::value body_of(const HttpReply& reply) {
  boost::system::error_code ec;
  auto value = boost::json::parse(reply.body, ec);
  return ec ? boost::json::value(nullptr) : value;
}

/// A string field of the reply's JSON object (e.g. an error's "code");
/// empty when absent.
inline std::string field_of(const HttpReply& reply, const char* name) {
  const auto body = body_of(reply);
  const auto* field = body.is_object() ? body.get_object().if_contains(name) : nullptr;
  return field && field->is_string() ? std::string(field->get_string()) : std::string();
}

/// Node i's /metrics, checked as strict Prometheus text 0.0.4.
inline std::map<std::string, MetricFamily> scrape(const DaemonCluster& cluster, std::size_t i) {
  const auto reply = http_request(cluster.http_port(i), "GET", "/metrics");
  REQUIRE(reply.status == 200);
  CHECK(reply.header("content-type").starts_with("text/plain; version=0.0.4"));
  try {
    return parse_prometheus_text(reply.body);
  } catch (const ExpositionError& error) {
    FAIL(error.what(), "\n", reply.body);
  }
  return {};
}

}  // namespace conflux::test
