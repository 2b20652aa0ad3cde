#pragma once
// The HTTP/JSON API of one node (docs/operations.md):
//
//   POST /perform/<method>   body: JSON array of arguments -> {"result": action};
//                            headers Conflux-Client, Conflux-Seq[, Conflux-Ack]:
//                            in the caller's client session (exactly once)
//   POST /sessions           [body: {"idle_timeout_ms": N}] -> {"client": id}
//   POST /query/<name>[?consistency=linearizable]
//                            body: JSON array of arguments -> {"result": value,
//                            "applied": index, ...}: a read of the committed
//                            state, never appended to the log
//   GET  /state[?provisional=true | ?consistency=linearizable]
//   GET  /status
//   GET  /metrics            Prometheus text format
//   GET  /log?after=N[&limit=K][&wait_ms=T]
//                            committed entries after index N -> {"entries":
//                            [{index, term, action[, configuration]}],
//                            "commit", "first_index"}; waits up to T ms for
//                            the next commit when there is none
//   GET  /members, POST /members, DELETE /members/<id>,
//   POST /members/<id>/promote, POST /leader/transfer   (membership)
//
// Errors are {"error": message, "code": name, "retryable": bool}.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <conflux/node.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "http_server.hpp"

namespace conflux::server {

/// /status as JSON: id, role, term, leader, commit, applied, last_index,
/// error, and per peer: connected and match.
boost::json::value status_json(const NodeStatus& status);
/// /members as JSON: voters and learners ({id, address}), outgoing (the
/// voters being left while joint), joint, committed.
boost::json::value members_json(const Members& members);

/// The HTTP status a failed perform maps to (404, 409, 400, 503 or 504).
unsigned http_status_for(errc code);

/// Runs on the node's executor. It must outlive every request it serves:
/// stop_waiting(), then stop the HTTP server and let it drain, before
/// destroying it (its waiters and its subscription point into it).
class NodeApi {
 public:
  /// `http` reports the serving HTTP server's counters for /metrics (may be
  /// empty). `queries` are the app's reads, served at /query/<name>: each
  /// runs on this node's committed state with the request's arguments.
  NodeApi(Node& node, std::function<const HttpCounters*()> http,
          std::map<std::string, Method> queries = {});
  boost::asio::awaitable<HttpResponse> operator()(HttpRequest request);

  /// Whether `request` only reads (a GET, or a query): what --public-reads
  /// serves without the token (HttpServerOptions::is_public).
  static bool reads_only(const HttpRequest& request);

  /// Answers the GET /log requests that wait for a commit at once, with
  /// what they have, and waits no more: before the server's stop(), whose
  /// in-flight requests it lets finish.
  void stop_waiting();

  static constexpr std::uint64_t max_log_limit = 10'000;
  static constexpr std::uint64_t max_log_wait_ms = 60'000;

 private:
  boost::asio::awaitable<HttpResponse> perform(const std::string& method, const std::string& body,
                                               std::optional<SessionCall> session);
  boost::asio::awaitable<HttpResponse> open_session(const std::string& body);
  boost::asio::awaitable<HttpResponse> run(const std::string& method, boost::json::array args,
                                           std::optional<SessionCall> session);
  boost::asio::awaitable<HttpResponse> membership(const std::string& verb, const std::string& path,
                                                  const std::string& body);
  boost::asio::awaitable<HttpResponse> query(const std::string& name, const std::string& query,
                                             const std::string& body);
  boost::asio::awaitable<HttpResponse> state(const std::string& query);
  boost::asio::awaitable<std::variant<boost::json::value, HttpResponse>> read_state(
      bool linearizable);
  HttpResponse metrics() const;
  boost::asio::awaitable<HttpResponse> committed_log(const std::string& query);
  boost::asio::awaitable<void> wait_for_commit_after(std::uint64_t after,
                                                     std::chrono::milliseconds wait);

  Node& node_;
  std::function<const HttpCounters*()> http_;
  std::map<std::string, Method> queries_;
  /// The GET /log requests waiting for a commit, by the index they wait past.
  std::multimap<std::uint64_t, boost::asio::steady_timer*> waiters_;
  std::optional<Subscription> wakes_waiters_;  ///< from the first wait on; dies before waiters_
  bool stopping_ = false;
};

}  // namespace conflux::server
