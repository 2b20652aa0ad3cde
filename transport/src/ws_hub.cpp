// WsHub: the listener, TLS (wss://), the WebSocket upgrade, the hello
// every peer must pass, and the registry of members by cluster and id.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <conflux/transport/accept_pause.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/answer_and_close.hpp>
#include <conflux/transport/tls_context.hpp>
#include <iostream>

#include "scoped_count.hpp"
#include "ws_hub_impl.hpp"

namespace conflux::transport {

using namespace asio::experimental::awaitable_operators;
namespace http = boost::beast::http;
using hub::Connection;

namespace {

/// The cluster named by a request target "/<cluster>", if it is one.
std::optional<std::string> cluster_of(std::string_view target) {
  if (target.size() < 2 || target.front() != '/') return std::nullopt;
  const auto name = target.substr(1);
  if (name.size() > max_node_id_bytes || name.find_first_of("/?#") != std::string_view::npos)
    return std::nullopt;
  return std::string(name);
}

// Reads the first message, then stops the hello deadline.
asio::awaitable<boost::system::error_code> read_first(hub::WsStream& ws,
                                                      boost::beast::flat_buffer& buffer,
                                                      asio::steady_timer& deadline) {
  auto [ec, n] = co_await ws.async_read(buffer, as_tuple_awaitable);
  deadline.cancel();
  co_return ec;
}

// If the deadline passes first, closes the stream while the read is still
// pending, which then ends. Returns whether it did. (Cancelling a Beast read
// instead would fail the stream: no close frame could be sent after it.)
asio::awaitable<bool> close_when_late(hub::WsStream& ws, asio::steady_timer& deadline,
                                      const std::string& reason) {
  auto [ec] = co_await deadline.async_wait(as_tuple_awaitable);
  if (ec) co_return false;
  const hub::websocket::close_reason close{hub::websocket::close_code::policy_error, reason};
  co_await ws.async_close(close, as_tuple_awaitable);
  co_return true;
}

asio::awaitable<void> refuse_http(detail::MaybeTlsStream& stream, http::status status,
                                  std::string text) {
  co_await detail::answer_and_close(stream, 11, status, "text/plain", text + "\n");
}

}  // namespace

WsHub::Impl::Impl(asio::any_io_executor ex, WsHubConfig cfg)
    : executor(ex),
      config(std::move(cfg)),
      acceptor(ex),
      tls(config.tls.enabled() ? detail::make_tls_context(config.tls, true) : nullptr),
      all_done(ex, asio::steady_timer::time_point::max()) {
  const auto [host, port] = split_address(config.listen);
  hub::tcp::resolver resolver(ex);
  const auto results = resolver.resolve(host, port, hub::tcp::resolver::passive);
  if (results.empty()) throw std::invalid_argument("cannot resolve hub address " + config.listen);
  const auto endpoint = results.begin()->endpoint();
  acceptor.open(endpoint.protocol());
  acceptor.set_option(hub::tcp::acceptor::reuse_address(true));
  boost::system::error_code ec;
  acceptor.bind(endpoint, ec);
  if (ec) throw std::system_error(ec, "cannot listen for the hub on " + config.listen);
  acceptor.listen();
}

void WsHub::Impl::log(const std::string& line) const {
  const auto full = "[conflux hub] " + line;
  if (config.log) {
    config.log(full);
  } else {
    std::cerr << full << '\n';
  }
}

void WsHub::Impl::log_limited(const std::string& line) {
  if (auto text = limited.line(line, std::chrono::steady_clock::now()); !text.empty()) log(text);
}

void WsHub::Impl::task_ended() {
  if (--tasks == 0 && closed) all_done.cancel();
}

asio::awaitable<void> WsHub::Impl::accept_loop() {
  while (!closed) {
    auto [ec, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
    if (closed) break;  // accepted just before close(): close() would not see it
    if (ec) {
      log("accept failed: " + ec.message());
      co_await pause_after_accept_error(acceptor);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(hub::tcp::no_delay(true), ignored);  // relayed Raft messages are small
    const auto remote = socket.remote_endpoint(ignored);
    auto connection = std::make_shared<Connection>(std::move(socket), tls, executor);
    connection->peer = remote.address().to_string() + ":" + std::to_string(remote.port());
    connections.remove_if([](const auto& weak) { return weak.expired(); });
    connections.push_back(connection);
    ++tasks;
    asio::co_spawn(executor, serve(connection),
                   [self = shared_from_this()](std::exception_ptr) { self->task_ended(); });
  }
}

// A connection's life: upgrade, hello, then reader and writer side by side
// until either ends (the writer sends the close frame).
asio::awaitable<void> WsHub::Impl::serve(std::shared_ptr<Connection> connection) {
  const auto keep = connection;  // a named owner in the frame (g++ 12 and coroutine parameters)
  if (unproven >= config.max_unproven_connections) {
    ++stats.refused;
    ++stats.busy;
    log_limited("refused " + connection->peer + ": " + std::to_string(unproven) +
                " connections are still proving who they are");
    co_return;
  }
  bool admitted = false;
  {
    const detail::ScopedCount counted(unproven);  // until the hello is settled
    const auto cluster = co_await upgrade(*connection);
    if (cluster) admitted = co_await admit(*connection, *cluster);
  }
  if (!admitted) co_return;
  join(connection);  // at once: admit() checked that the id is free
  co_await (read_loop(*connection) && write_loop(*connection));
  leave(*connection);
}

// wss://: the TLS handshake (no-op on ws://), counted and logged when it
// fails. Whether the connection may go on.
asio::awaitable<bool> WsHub::Impl::secure(Connection& connection) {
  auto& stream = connection.ws.next_layer();
  const auto ec = co_await stream.handshake(asio::ssl::stream_base::server);
  if (!ec) co_return true;
  // close(), or a port probe that connected and left: not a refusal.
  if (closed || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) co_return false;
  ++stats.refused;
  ++stats.tls_handshake;
  log_limited("refused " + connection.peer +
              ": TLS handshake: " + detail::handshake_failure(stream.ssl(), ec).text);
  co_return false;
}

// Within the handshake timeout, shakes hands (wss://) and reads the HTTP
// upgrade request, and accepts it if it names a cluster; anything else
// gets a plain HTTP refusal.
asio::awaitable<std::optional<std::string>> WsHub::Impl::upgrade(Connection& connection) {
  auto& stream = connection.ws.next_layer();
  boost::beast::get_lowest_layer(connection.ws).expires_after(config.handshake_timeout);
  if (!co_await secure(connection)) co_return std::nullopt;
  boost::beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(8 * 1024);
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
  if (ec) co_return std::nullopt;
  const auto& request = parser.get();
  const auto cluster = cluster_of(request.target());
  if (!boost::beast::websocket::is_upgrade(request) && config.files &&
      request.method() == http::verb::get) {
    const auto target = std::string_view(request.target());
    auto file = config.files(target.substr(0, target.find('?')));
    if (!file) {
      co_await refuse_http(stream, http::status::not_found, "no such file");
    } else {
      co_await detail::answer_and_close(stream, 11, http::status::ok, file->content_type,
                                        std::move(file->body));
    }
    co_return std::nullopt;
  }
  if (!boost::beast::websocket::is_upgrade(request)) {
    static const std::string text = "this is a Conflux hub: connect with WebSocket to /<cluster>";
    co_await refuse_http(stream, http::status::upgrade_required, text);
    co_return std::nullopt;
  }
  if (!cluster) {
    static const std::string text = "the path must be /<cluster>";
    co_await refuse_http(stream, http::status::not_found, text);
    co_return std::nullopt;
  }
  boost::beast::get_lowest_layer(connection.ws).expires_never();  // the WebSocket's take over
  // Pings after 5 s of silence, closed after 10: a peer that vanished frees
  // its id soon enough to reconnect under it.
  connection.ws.set_option(
      hub::websocket::stream_base::timeout{.handshake_timeout = config.handshake_timeout,
                                           .idle_timeout = std::chrono::seconds(10),
                                           .keep_alive_pings = true});
  connection.ws.read_message_max(config.max_message_bytes);
  auto [accept_error] = co_await connection.ws.async_accept(request, as_tuple_awaitable);
  if (accept_error) co_return std::nullopt;
  co_return cluster;
}

// The cluster is the one the URL's path names.
std::string WsHub::Impl::refusal_reason(const Hello& hello, const std::string& cluster) const {
  if (!config.token.empty() && !same_secret(hello.token, config.token))
    return hello.token.empty() ? "no token: this hub needs the cluster's token" : "a wrong token";
  if (auto reason = hello_refusal(hello, cluster, hub_id); !reason.empty()) return reason;
  const auto members = clusters.find(cluster);
  if (members != clusters.end() && members->second.count(hello.from))
    return "duplicate node id \"" + hello.from + "\"";
  return {};
}

// The first message must be a hello, within the handshake timeout; the
// answer is welcome, or refused followed by a close with the same reason.
asio::awaitable<bool> WsHub::Impl::admit(Connection& connection, const std::string& cluster) {
  asio::steady_timer deadline(executor, config.handshake_timeout);
  boost::beast::flat_buffer buffer;
  static const std::string late_reason = "no hello within the handshake timeout";
  const auto [read_error, late] = co_await (read_first(connection.ws, buffer, deadline) &&
                                            close_when_late(connection.ws, deadline, late_reason));
  if (late) {
    ++stats.refused;
    log_limited("refused " + connection.peer + ": " + late_reason);
    co_return false;
  }
  if (read_error) co_return false;  // the peer went away
  std::string reason;
  std::optional<Hello> hello;
  if (!connection.ws.got_text()) {
    reason = "binary frames are not accepted";
  } else if (auto decoded = decode_hello(boost::beast::buffers_to_string(buffer.data()));
             !decoded.ok()) {
    reason = "bad hello: " + decoded.error().message();
  } else {
    hello = decoded.value();
    reason = refusal_reason(*hello, cluster);
  }
  // Named locals from here on (awaitable.hpp).
  const auto answer = encode(HelloReply{reason.empty(), reason});
  if (reason.empty()) {
    connection.cluster = cluster;
    connection.id = hello->from;
    // Queued, not written here: the caller joins before anything suspends,
    // so a concurrent hello with the same id already finds it taken.
    connection.queued_bytes += answer.size();
    connection.queue.push_back(answer);
    co_return true;
  }
  ++stats.refused;
  if (hello && !config.token.empty() && !same_secret(hello->token, config.token))
    ++stats.unauthorized;
  log_limited("refused " + connection.peer + ": " + reason);
  if (hello) co_await connection.ws.async_write(asio::buffer(answer), as_tuple_awaitable);
  const hub::websocket::close_reason close{hub::websocket::close_code::policy_error,
                                           reason.substr(0, 120)};
  co_await connection.ws.async_close(close, as_tuple_awaitable);
  co_return false;
}

void WsHub::Impl::join(const std::shared_ptr<Connection>& connection) {
  clusters[connection->cluster][connection->id] = connection;
  announce_members(connection->cluster);
}

void WsHub::Impl::leave(const Connection& connection) {
  const auto name = connection.cluster;  // copied: the erase below may free `connection`
  auto cluster = clusters.find(name);
  if (cluster == clusters.end()) return;
  auto member = cluster->second.find(connection.id);
  if (member != cluster->second.end() && member->second.get() == &connection)
    cluster->second.erase(member);
  if (cluster->second.empty()) {
    clusters.erase(cluster);
  } else {
    announce_members(name);
  }
}

WsHub::WsHub(asio::any_io_executor executor, WsHubConfig config)
    : impl_(std::make_shared<Impl>(executor, std::move(config))) {}

WsHub::~WsHub() {
  close();
}

std::uint16_t WsHub::port() const {
  return impl_->acceptor.local_endpoint().port();
}

asio::awaitable<void> WsHub::run() {
  auto impl = impl_;
  ++impl->tasks;
  co_await impl->accept_loop();
  impl->task_ended();
  if (impl->tasks > 0) co_await impl->all_done.async_wait(as_tuple_awaitable);
}

void WsHub::close() {
  auto& impl = *impl_;
  if (std::exchange(impl.closed, true)) return;
  boost::system::error_code ignored;
  impl.acceptor.close(ignored);
  for (const auto& weak : impl.connections) {
    if (auto connection = weak.lock()) boost::beast::get_lowest_layer(connection->ws).close();
  }
  impl.connections.clear();
  if (impl.tasks == 0) impl.all_done.cancel();
}

std::vector<raft::NodeId> WsHub::members(const std::string& cluster) const {
  std::vector<raft::NodeId> ids;
  if (const auto it = impl_->clusters.find(cluster); it != impl_->clusters.end()) {
    for (const auto& [id, connection] : it->second) ids.push_back(id);
  }
  return ids;
}

const WsHubStats& WsHub::stats() const {
  return impl_->stats;
}

std::string WsHub::reload_tls() {
  return detail::reload_tls_context(impl_->tls, impl_->config.tls, true);
}

}  // namespace conflux::transport
