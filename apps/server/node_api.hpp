#pragma once
// The HTTP/JSON API of one node (docs/operations.md):
//
//   POST /perform/<method>   body: JSON array of arguments -> {"result": action}
//   GET  /state[?provisional=true]
//   GET  /status
//   GET  /metrics            Prometheus text format
//
// Errors are {"error": message, "code": name, "retryable": bool}.

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <conflux/node.hpp>
#include <functional>

#include "http_server.hpp"

namespace conflux::server {

/// /status as JSON: id, role, term, leader, commit, applied, last_index,
/// error, and per peer: connected and match.
boost::json::value status_json(const NodeStatus& status);

/// The HTTP status a failed perform maps to (404, 409, 400, 503 or 504).
unsigned http_status_for(errc code);

class NodeApi {
 public:
  /// `http` reports the serving HTTP server's counters for /metrics (may be
  /// empty).
  NodeApi(Node& node, std::function<const HttpCounters*()> http);
  boost::asio::awaitable<HttpResponse> operator()(HttpRequest request);

 private:
  boost::asio::awaitable<HttpResponse> perform(const std::string& method, const std::string& body);
  HttpResponse state(const std::string& query) const;
  HttpResponse metrics() const;

  Node& node_;
  std::function<const HttpCounters*()> http_;
};

}  // namespace conflux::server
