// The HTTP server: an accept loop, and one coroutine per connection that
// reads a request under a deadline, hands it to the handler, writes the
// answer, and loops (keep-alive; pipelined requests wait in the buffer).
#include "http_server.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <conflux/transport/accept_pause.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/tls_context.hpp>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <system_error>
#include <tuple>

#include "browser_guard.hpp"

namespace conflux::server {

using transport::as_tuple_awaitable;

namespace asio = boost::asio;
namespace http = boost::beast::http;

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (boost::beast::iequals(key, name)) return &value;
  }
  return nullptr;
}
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t header_limit = 16 * 1024;
constexpr std::chrono::seconds linger_time{2};

tcp::endpoint resolve(asio::any_io_executor executor, const std::string& address) {
  const auto [host, port] = transport::split_address(address);
  tcp::resolver resolver(executor);
  const auto results = resolver.resolve(host, port, tcp::resolver::passive);
  if (results.empty()) throw std::invalid_argument("cannot resolve HTTP address " + address);
  return results.begin()->endpoint();
}

// The server's own refusals, shaped as every error of the API is
// (operations.md); none of them is known safe to send elsewhere.
HttpResponse error_response(unsigned status, std::string code, std::string message) {
  boost::json::object body{
      {"error", std::move(message)}, {"code", std::move(code)}, {"retryable", false}};
  return HttpResponse{.status = status,
                      .content_type = "application/json",
                      .body = boost::json::serialize(body),
                      .headers = {}};
}

/// How a read that ended without a request is answered (if at all), and the
/// refusal it counts as (empty: none, the client went away or idled out).
struct ReadFailure {
  std::optional<HttpResponse> answer;
  std::string refusal;
};

ReadFailure request_timeout(std::string what, std::chrono::milliseconds limit,
                            std::string refusal) {
  return {
      error_response(408, "request_timeout",
                     "the request " + what + " within " + std::to_string(limit.count()) + " ms"),
      std::move(refusal)};
}

/// A read that its deadline ended: `fresh` for a connection's first request,
/// `got_some` if any byte of it arrived, `headers_in` if only the body was
/// missing.
ReadFailure timed_out(bool fresh, bool got_some, bool headers_in,
                      const HttpServerOptions& options) {
  if (headers_in)
    return request_timeout("did not arrive whole", options.request_timeout, "body_timeout");
  if (!got_some) {
    if (fresh) return {std::nullopt, "header_timeout"};  // connected, never spoke
    return {};  // a kept-alive connection that had nothing more to ask
  }
  const auto limit =
      fresh ? std::min(options.header_timeout, options.request_timeout) : options.request_timeout;
  return request_timeout("headers did not arrive", limit, "header_timeout");
}

ReadFailure failed_read(const boost::system::error_code& ec) {
  if (ec == http::error::body_limit) {
    return {error_response(413, "body_too_large", "the request body exceeds the limit"),
            "body_too_large"};
  }
  if (ec == http::error::header_limit) {
    return {error_response(431, "headers_too_large", "the request headers exceed 16 KiB"),
            "headers_too_large"};
  }
  const bool parse_error = ec.category() == make_error_code(http::error::bad_target).category();
  if (parse_error && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return {error_response(400, "malformed_request", "malformed HTTP request: " + ec.message()),
            "malformed"};
  }
  return {};  // the client went away
}

}  // namespace

/// One client connection. `reading` is set only while a request is being
/// read; `generation` tells a deadline whether its operation is still the
/// current one.
struct Connection {
  Connection(tcp::socket s, std::shared_ptr<asio::ssl::context> tls_context)
      : socket(std::move(s)), deadline(socket.get_executor()), context(std::move(tls_context)) {
    if (context) tls.emplace(socket, *context);
  }
  tcp::socket socket;
  asio::steady_timer deadline;
  std::string address;  // the client's IP address, for the per-address limit
  std::string peer;     // address:port, for logs
  bool local = false;   // came in on a loopback address
  std::uint64_t generation = 0;
  std::uint64_t requests = 0;  // answered so far on this connection
  // While a request is read: its parser, so that a deadline that passes
  // with the headers in lets the body go on until `request_due`.
  const http::request_parser<http::string_body>* parser = nullptr;
  Clock::time_point request_due;
  bool reading = false;
  bool timed_out = false;
  // HTTPS: the context this connection started with (a reload may replace
  // the server's), and the TLS stream over `socket`.
  std::shared_ptr<asio::ssl::context> context;
  std::optional<asio::ssl::stream<tcp::socket&>> tls;
  std::vector<std::string> client_ids;  // named by its verified certificate
};

namespace {

// At `at`, unless disarm() comes first: cancels the pending operation and
// shuts the receiving side, so that a read composed of several reads (or a
// client that keeps sending) ends too; the socket can still send the 408.
// While a request is read, a deadline that finds its headers in waits on
// until the whole request is due: one timer per request, however it splits.
void arm(const std::shared_ptr<Connection>& connection, Clock::time_point at) {
  const auto generation = ++connection->generation;
  connection->timed_out = false;
  connection->deadline.expires_at(at);
  connection->deadline.async_wait([connection, generation](boost::system::error_code ec) {
    if (ec || connection->generation != generation) return;
    const auto* parser = connection->parser;
    if (parser && parser->is_header_done() && Clock::now() < connection->request_due) {
      return arm(connection, connection->request_due);
    }
    connection->timed_out = true;
    boost::system::error_code ignored;
    connection->socket.cancel(ignored);
    connection->socket.shutdown(tcp::socket::shutdown_receive, ignored);
  });
}

void disarm(Connection& connection) {
  ++connection.generation;
  connection.deadline.cancel();
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::any_io_executor ex, HttpServerOptions opts, HttpHandler h)
      : executor(ex), options(std::move(opts)), handler(std::move(h)), acceptor(ex) {
    if (options.tls.enabled()) tls = transport::detail::make_tls_context(options.tls, true);
    const auto endpoint = resolve(ex, options.listen);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    boost::system::error_code ec;
    acceptor.bind(endpoint, ec);
    if (ec) throw std::system_error(ec, "cannot listen for HTTP on " + options.listen);
    acceptor.listen();
  }

  asio::awaitable<void> accept_loop();
  std::string refusal_at_accept(const std::string& address) const;
  void refuse(const std::string& reason) { ++counters.refused[reason]; }
  asio::awaitable<void> serve(std::shared_ptr<Connection> connection);
  asio::awaitable<bool> secure(const std::shared_ptr<Connection>& connection);
  std::string refusal_of(const HttpRequest& request) const;
  std::optional<HttpResponse> gatekeep(const HttpRequest& request, const Connection& connection);
  asio::awaitable<boost::system::error_code> read(const std::shared_ptr<Connection>& connection,
                                                  boost::beast::flat_buffer& buffer,
                                                  http::request_parser<http::string_body>& parser);
  asio::awaitable<bool> answer(std::shared_ptr<Connection> connection, unsigned version,
                               bool keep_alive, HttpResponse response);
  asio::awaitable<void> linger_close(std::shared_ptr<Connection> connection);
  asio::awaitable<HttpResponse> call_handler(HttpRequest request);
  void forget(Connection* connection);
  void finish_if_stopped();
  void log(LogLevel level, const std::string& line) const {
    if (options.log) options.log(level, line);
  }
  /// co_spawn's handler: what escapes a coroutine is logged.
  auto logged(std::string task) const {
    return transport::log_escaped(std::move(task), [log = options.log](std::string_view line) {
      if (log) log(LogLevel::error, line);
    });
  }

  asio::any_io_executor executor;
  HttpServerOptions options;
  HttpHandler handler;
  tcp::acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;  // HTTPS: what new connections use
  std::list<std::shared_ptr<Connection>> connections;
  std::map<std::string, std::size_t> per_address;  // open connections by client address
  HttpCounters counters;
  bool accepting = false;
  bool stopping = false;
  std::function<void()> on_stopped;
};

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  auto self = shared_from_this();
  while (!stopping) {
    auto [ec, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping) break;
      log(LogLevel::warning, "HTTP accept failed: " + ec.message());
      co_await transport::pause_after_accept_error(acceptor);
      continue;  // e.g. out of file descriptors: keep serving the others
    }
    boost::system::error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    const auto address = remote.address().to_string();
    if (const auto reason = refusal_at_accept(address); !reason.empty()) {
      refuse(reason);
      log(LogLevel::warning, "HTTP connection from " + address + " refused: " +
                                 (reason == "connection_limit"
                                      ? "already at the connection limit"
                                      : "already at the limit of connections from one address"));
      continue;  // the socket closes as it goes out of scope
    }
    ++counters.connections_accepted;
    socket.set_option(tcp::no_delay(true), ignored);  // answers are single small writes
    const auto local = socket.local_endpoint(ignored).address().is_loopback();
    auto connection = std::make_shared<Connection>(std::move(socket), tls);
    connection->local = local;
    connection->address = address;
    connection->peer = address + ":" + std::to_string(remote.port());
    ++per_address[address];
    connections.push_back(connection);
    counters.connections_open = connections.size();
    asio::co_spawn(executor, serve(connection), logged("HTTP connection " + connection->peer));
  }
  accepting = false;
  finish_if_stopped();
}

// Empty when a new connection from `address` may be served; otherwise the
// limit it would break. The per-address limit keeps one client from taking
// every connection; the header deadline keeps each one it holds short.
std::string HttpServer::Impl::refusal_at_accept(const std::string& address) const {
  if (connections.size() >= options.max_connections) return "connection_limit";
  const auto found = per_address.find(address);
  if (found != per_address.end() && found->second >= options.max_connections_per_address) {
    return "address_limit";
  }
  return {};
}

namespace {

/// Takes a connection off the server's books however serve() ends, an
/// escaping exception included, so that no per-address slot leaks.
class Forget {
 public:
  Forget(std::function<void()> forget) : forget_(std::move(forget)) {}
  ~Forget() { forget_(); }
  Forget(const Forget&) = delete;
  Forget& operator=(const Forget&) = delete;

 private:
  std::function<void()> forget_;
};

}  // namespace

asio::awaitable<void> HttpServer::Impl::serve(std::shared_ptr<Connection> connection) {
  auto self = shared_from_this();
  const Forget forget_on_exit([this, connection] {
    boost::system::error_code ignored;
    connection->socket.shutdown(tcp::socket::shutdown_both, ignored);
    connection->socket.close(ignored);
    forget(connection.get());
  });
  if (!co_await secure(connection)) co_return;
  boost::beast::flat_buffer buffer;
  for (bool open = true; open && !stopping;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(header_limit);
    const auto ec = co_await read(connection, buffer, parser);
    if (ec) {
      auto failure = connection->timed_out ? timed_out(connection->requests == 0, parser.got_some(),
                                                       parser.is_header_done(), options)
                                           : failed_read(ec);
      if (!failure.refusal.empty()) refuse(failure.refusal);
      if (failure.answer) {
        co_await answer(connection, 11, false, std::move(*failure.answer));
        co_await linger_close(connection);
      }
      break;
    }
    ++connection->requests;
    auto request = parser.release();
    const auto started = Clock::now();
    HttpRequest call{.method = std::string(request.method_string()),
                     .target = std::string(request.target()),
                     .body = std::move(request.body()),
                     .headers = {},
                     .client_ids = connection->client_ids};
    for (const auto& field : request) {
      call.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    const auto line = options.access_log ? call.method + " " + call.target : std::string();
    auto refused = gatekeep(call, *connection);
    HttpResponse response;
    if (refused) {
      response = std::move(*refused);
    } else {
      response = co_await call_handler(std::move(call));
    }
    const auto status = response.status;
    open = co_await answer(connection, request.version(), request.keep_alive() && !stopping,
                           std::move(response));
    if (options.access_log) {
      const std::chrono::duration<double, std::milli> took = Clock::now() - started;
      log(LogLevel::debug, line + " -> " + std::to_string(status) + " in " +
                               std::to_string(took.count()) + " ms for " + connection->peer);
    }
  }
}

// Reads one request under one deadline: a new connection must send its
// line and headers within the header timeout, a kept-alive one its next
// request's headers within the request timeout of the previous answer; the
// whole request is due within the request timeout of the read's start. A
// deadline cancels the read (not the socket) so that a 408 can still be
// written.
asio::awaitable<boost::system::error_code> HttpServer::Impl::read(
    const std::shared_ptr<Connection>& connection, boost::beast::flat_buffer& buffer,
    http::request_parser<http::string_body>& parser) {
  const auto start = Clock::now();
  const bool fresh = connection->requests == 0;
  connection->reading = true;
  connection->parser = &parser;
  connection->request_due = start + options.request_timeout;
  arm(connection, start + (fresh ? std::min(options.header_timeout, options.request_timeout)
                                 : options.request_timeout));
  // Two co_awaits, not one on a conditional: g++ 12 evaluates both of its
  // operands when the conditional is co_awaited.
  std::tuple<boost::system::error_code, std::size_t> read;
  if (connection->tls) {
    read = co_await http::async_read(*connection->tls, buffer, parser, as_tuple_awaitable);
  } else {
    read = co_await http::async_read(connection->socket, buffer, parser, as_tuple_awaitable);
  }
  const auto ec = std::get<0>(read);
  connection->reading = false;
  connection->parser = nullptr;
  disarm(*connection);
  co_return ec;
}

// Writes `response`; returns whether the connection stays open.
asio::awaitable<bool> HttpServer::Impl::answer(std::shared_ptr<Connection> connection,
                                               unsigned version, bool keep_alive,
                                               HttpResponse response) {
  ++counters.responses[response.status];
  http::response<http::string_body> out{static_cast<http::status>(response.status), version};
  out.set(http::field::server, "conflux");
  out.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) out.set(name, value);
  out.keep_alive(keep_alive);
  out.body() = std::move(response.body);
  out.prepare_payload();
  arm(connection, Clock::now() + options.request_timeout);     // a client that never reads
  std::tuple<boost::system::error_code, std::size_t> written;  // two co_awaits: see read()
  if (connection->tls) {
    written = co_await http::async_write(*connection->tls, out, as_tuple_awaitable);
  } else {
    written = co_await http::async_write(connection->socket, out, as_tuple_awaitable);
  }
  const auto ec = std::get<0>(written);
  disarm(*connection);
  co_return !ec && keep_alive;
}

// After an error answer the client may still be sending (a huge body):
// closing at once would reset the connection and lose the answer, so stop
// sending, drain for a moment, then close.
asio::awaitable<void> HttpServer::Impl::linger_close(std::shared_ptr<Connection> connection) {
  boost::system::error_code ignored;
  connection->socket.shutdown(tcp::socket::shutdown_send, ignored);
  arm(connection, Clock::now() + linger_time);
  std::array<char, 16 * 1024> sink;
  while (!connection->timed_out) {
    auto [ec, n] =
        co_await connection->socket.async_read_some(asio::buffer(sink), as_tuple_awaitable);
    if (ec) break;
  }
  disarm(*connection);
}

// HTTPS: the handshake, under the header deadline (a client that stalls in
// it holds its connection no longer than one that stalls in its headers).
asio::awaitable<bool> HttpServer::Impl::secure(const std::shared_ptr<Connection>& connection) {
  if (!connection->tls) co_return true;
  arm(connection, Clock::now() + std::min(options.header_timeout, options.request_timeout));
  auto [ec] =
      co_await connection->tls->async_handshake(asio::ssl::stream_base::server, as_tuple_awaitable);
  disarm(*connection);
  SSL* ssl = connection->tls->native_handle();
  if (ec) {
    refuse("tls_handshake");
    log(LogLevel::warning,
        "HTTPS connection from " + connection->peer + " refused: " +
            (connection->timed_out ? std::string("the TLS handshake timed out")
                                   : transport::detail::handshake_failure(ssl, ec).text));
    co_return false;
  }
  connection->client_ids = transport::detail::verified_peer_ids(ssl);
  co_return true;
}

// Why `request` may not be served ("" if it may): the token, when one is set.
std::string HttpServer::Impl::refusal_of(const HttpRequest& request) const {
  if (options.token.empty()) return "";
  const auto& ids = request.client_ids;
  if (!ids.empty() && options.trusted_client && options.trusted_client(ids)) return "";
  if (options.is_public && options.is_public(request)) return "";
  const auto* given = request.header("Authorization");
  if (!given && !ids.empty())
    return "a client certificate naming \"" + ids.front() +
           "\", which is not trusted, and no token";
  if (!given) return "no \"Authorization: Bearer <token>\" header";
  const std::string_view text(*given);
  const auto& token = options.token;
  const bool bearer = text.size() > 7 && boost::beast::iequals(text.substr(0, 7), "Bearer ");
  const auto presented = bearer ? text.substr(7) : std::string_view();
  if (!transport::same_secret(presented, token)) {
    return bearer ? "a wrong bearer token" : "an Authorization header that is not a bearer token";
  }
  return "";
}

// The 401 for a request the token keeps out, or without a token the 403
// for a browser's request on behalf of another site; nullopt for one let in.
std::optional<HttpResponse> HttpServer::Impl::gatekeep(const HttpRequest& request,
                                                       const Connection& connection) {
  const auto* origin = request.header("Origin");
  const auto* host = request.header("Host");
  if (const auto foreign = options.token.empty()
                               ? foreign_browser_request(origin ? *origin : "", host ? *host : "",
                                                         tls ? "https" : "http", connection.local)
                               : std::string();
      !foreign.empty()) {
    refuse("cross_origin");
    log(LogLevel::warning, "HTTP " + request.method + " " + request.target + " from " +
                               connection.peer + " refused: " + foreign);
    return error_response(403, "cross_origin", "refused: " + foreign);
  }
  const auto refusal = refusal_of(request);
  if (refusal.empty()) return std::nullopt;
  refuse("unauthorized");
  log(LogLevel::warning, "HTTP " + request.method + " " + request.target + " from " +
                             connection.peer + " refused: " + refusal);
  auto response =
      error_response(401, "unauthorized", "this request needs the cluster's token: " + refusal);
  response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"conflux\"");
  return response;
}

asio::awaitable<HttpResponse> HttpServer::Impl::call_handler(HttpRequest request) {
  try {
    co_return co_await handler(std::move(request));
  } catch (const std::exception& error) {
    log(LogLevel::error, std::string("HTTP handler failed: ") + error.what());
    co_return error_response(500, "internal", error.what());
  } catch (...) {
    log(LogLevel::error, "HTTP handler failed with a non-standard exception");
    co_return error_response(500, "internal", "a non-standard exception");
  }
}

void HttpServer::Impl::forget(Connection* connection) {
  if (auto found = per_address.find(connection->address);
      found != per_address.end() && --found->second == 0) {
    per_address.erase(found);
  }
  connections.remove_if([connection](const auto& c) { return c.get() == connection; });
  counters.connections_open = connections.size();
  finish_if_stopped();
}

void HttpServer::Impl::finish_if_stopped() {
  if (!stopping || accepting || !connections.empty() || !on_stopped) return;
  asio::post(executor, std::exchange(on_stopped, nullptr));
}

HttpServer::HttpServer(asio::any_io_executor executor, HttpServerOptions options,
                       HttpHandler handler)
    : impl_(std::make_shared<Impl>(executor, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  boost::system::error_code ignored;
  impl_->stopping = true;
  impl_->acceptor.close(ignored);
  for (const auto& connection : impl_->connections) connection->socket.close(ignored);
}

std::string HttpServer::scheme() const {
  return impl_->tls ? "https" : "http";
}

std::string HttpServer::reload_tls() {
  return transport::detail::reload_tls_context(impl_->tls, impl_->options.tls, true);
}

std::string HttpServer::address() const {
  const auto endpoint = impl_->acceptor.local_endpoint();
  const auto host = endpoint.address().to_string();
  const auto port = std::to_string(endpoint.port());
  return endpoint.address().is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

void HttpServer::start() {
  impl_->accepting = true;
  asio::co_spawn(impl_->executor, impl_->accept_loop(), impl_->logged("HTTP listener"));
}

// Idle connections (waiting for a request) are cancelled; one busy with a
// request finishes it and then sees `stopping`.
void HttpServer::stop(std::function<void()> done) {
  asio::dispatch(impl_->executor, [impl = impl_, done = std::move(done)]() mutable {
    impl->stopping = true;
    impl->on_stopped = std::move(done);
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    for (const auto& connection : impl->connections) {
      if (connection->reading) connection->socket.cancel(ignored);
    }
    impl->finish_if_stopped();
  });
}

const HttpCounters& HttpServer::counters() const {
  return impl_->counters;
}

}  // namespace conflux::server
