#pragma once
// Internals of WsHub (ws_hub.cpp: listener, admission, registry;
// ws_hub_session.cpp: a member's reader and writer).

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/maybe_tls_stream.hpp>
#include <conflux/transport/ws_hub.hpp>
#include <deque>
#include <list>
#include <map>
#include <optional>

#include "channel_core.hpp"
#include "relay_peers.hpp"

namespace conflux::transport {

namespace asio = boost::asio;

namespace hub {

namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using WsStream = websocket::stream<detail::MaybeTlsStream>;

/// One connection, from accept to close. After admission it is a member:
/// `cluster` and `id` are set and other members' messages queue here.
struct Connection {
  Connection(tcp::socket socket, std::shared_ptr<asio::ssl::context> tls,
             asio::any_io_executor executor)
      : ws(std::move(socket), std::move(tls)),
        wake(executor, asio::steady_timer::time_point::max()) {}

  WsStream ws;
  std::string peer;  // remote address, for logs
  std::string cluster;
  raft::NodeId id;
  std::deque<std::string> queue;  // texts to send, in order
  std::size_t queued_bytes = 0;
  asio::steady_timer wake;  // the writer waits here; cancelled to wake it
  /// Once set, the writer sends a close frame with this reason and stops.
  std::optional<websocket::close_reason> closing;

  void request_close(websocket::close_code code, std::string reason) {
    if (!closing) closing.emplace(code, reason.substr(0, 120));  // a close reason fits 123 bytes
    wake.cancel();
  }
};

}  // namespace hub

struct WsHub::Impl : std::enable_shared_from_this<WsHub::Impl> {
  Impl(asio::any_io_executor ex, WsHubConfig cfg);

  void log(const std::string& line) const;
  /// For what strangers cause (refusals, closings): a flood of them is
  /// logged at most LimitedLog::per_second lines a second.
  void log_limited(const std::string& line);
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<hub::Connection> connection);
  asio::awaitable<bool> secure(hub::Connection& connection);
  asio::awaitable<std::optional<std::string>> upgrade(hub::Connection& connection);
  asio::awaitable<bool> admit(hub::Connection& connection, const std::string& cluster);
  std::string refusal_reason(const Hello& hello, const std::string& cluster) const;
  asio::awaitable<void> read_loop(hub::Connection& connection);
  asio::awaitable<void> write_loop(hub::Connection& connection);
  std::optional<std::string> route(const hub::Connection& from, std::string text);
  void enqueue(hub::Connection& to, std::string text);
  void join(const std::shared_ptr<hub::Connection>& connection);
  void leave(const hub::Connection& connection);
  void announce_members(const std::string& cluster);
  void task_ended();

  asio::any_io_executor executor;
  WsHubConfig config;
  hub::tcp::acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;  // wss://: what new connections use
  /// cluster -> id -> member
  std::map<std::string, std::map<raft::NodeId, std::shared_ptr<hub::Connection>>> clusters;
  std::list<std::weak_ptr<hub::Connection>> connections;  // every open one, for close()
  WsHubStats stats;
  LimitedLog limited;
  bool closed = false;
  std::size_t tasks = 0;
  std::size_t unproven = 0;  // connections before their hello (serve())
  asio::steady_timer all_done;
};

}  // namespace conflux::transport
