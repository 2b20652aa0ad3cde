#pragma once
// A small HTTP/1.1 server (Boost.Beast, kept out of this header) for
// conflux-node and the demo. One coroutine per connection reads requests
// and answers them in order, so keep-alive and pipelining work; every read
// has a deadline, so a slow or half-sent request costs one connection and
// never the node. Runs on one executor with the node it serves.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <conflux/options.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace conflux::server {

struct HttpRequest {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< path and query, as sent
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< as sent, in order
  /// Over HTTPS: the ids named by the certificate the client presented,
  /// which the authority signed and which verified; empty without one.
  std::vector<std::string> client_ids = {};

  /// The first header named `name` (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
};

/// Answers one request. An exception becomes a 500 with its message.
using HttpHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;

/// Limits that keep slow or greedy clients from taking every connection
/// (docs/operations.md, "Limits of the HTTP API").
struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  ///< "host:port"; port 0 picks one
  std::size_t body_limit = 1 << 20;    ///< larger bodies get 413
  /// A new connection's first request line and headers must arrive within
  /// this of the accept (else 408), so that a connection that says nothing
  /// useful is soon closed. Never longer than request_timeout.
  std::chrono::milliseconds header_timeout{2000};
  /// A request must arrive whole within this (else 408); a kept-alive
  /// connection may wait this long for its next request.
  std::chrono::milliseconds request_timeout{10000};
  std::size_t max_connections = 1024;             ///< beyond it, new connections are closed at once
  std::size_t max_connections_per_address = 256;  ///< open connections from one client address
  LogSink log;                                    ///< problems at warning
  bool access_log = false;                        ///< also one line per request, at debug
  /// Set: HTTPS with this certificate and key (transport/tls.hpp). A client
  /// may present a certificate of `tls.authority`, which then stands for
  /// the token if `trusted_client` accepts the ids it names.
  transport::TlsFiles tls = {};
  /// Set: every request must carry "Authorization: Bearer <token>" (or, over
  /// HTTPS, a client certificate of the authority), unless `is_public`
  /// says it need not; others get 401, counted as refused "unauthorized".
  std::string token = {};
  std::function<bool(const HttpRequest&)> is_public = {};
  /// Whether a client certificate naming these ids stands for the token
  /// (conflux-node: it names a current member, so a removed member's
  /// certificate loses that trust once its removal commits). Unset: none
  /// does.
  std::function<bool(const std::vector<std::string>& ids)> trusted_client = {};
};

/// What the server counted since it started (for /metrics).
struct HttpCounters {
  std::map<unsigned, std::uint64_t> responses;  ///< by status code
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  /// Connections and requests turned away, by reason: connection_limit,
  /// address_limit (at accept), tls_handshake (HTTPS), header_timeout,
  /// body_timeout, headers_too_large, body_too_large, malformed,
  /// unauthorized (no token, or a wrong one), cross_origin (a browser's on
  /// behalf of another site: browser_guard.hpp).
  std::map<std::string, std::uint64_t> refused;
};

class HttpServer {
 public:
  /// Binds at once: throws std::system_error naming the address on failure.
  HttpServer(boost::asio::any_io_executor executor, HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// "host:port" actually bound.
  std::string address() const;
  /// "https" or "http".
  std::string scheme() const;
  /// Reads the HTTPS certificate and key again from their files: new
  /// connections use them. "" once reloaded (or on plain HTTP), else why
  /// not, and the ones in use stay.
  std::string reload_tls();
  void start();
  /// Stops accepting, closes idle connections, lets requests in flight
  /// finish (their responses say "Connection: close"), then calls `done`.
  void stop(std::function<void()> done);
  const HttpCounters& counters() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace conflux::server
