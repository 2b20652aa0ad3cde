#pragma once
// Test fixtures for the WebSocket hub: a hub and WsChannels on loopback
// (ephemeral port) in one io_context, a raw WebSocket client for hostile
// input, and a raw HTTP request. Everything runs on the test thread's
// io_context; waits use run_until (a condition and a deadline), never sleeps.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/port_reservation.hpp>
#include <conflux/transport/ws_channel.hpp>
#include <conflux/transport/ws_hub.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/tcp_fixture.hpp"  // vote()

namespace conflux::test {

namespace websocket = boost::beast::websocket;
namespace http = boost::beast::http;
inline constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

/// The hello a peer sends to a hub as `from`, in `cluster`.
inline std::string hub_hello(const raft::NodeId& from, const std::string& cluster = "x") {
  return transport::encode(transport::Hello{transport::protocol_version, cluster, from, "hub"});
}

/// A hub and the WsChannels that join it; a channel is named by cluster and id.
class HubCluster {
 public:
  using Tweak = std::function<void(transport::WsHubConfig&)>;

  explicit HubCluster(Tweak tweak = {}) : tweak_(std::move(tweak)) { start_hub(); }
  ~HubCluster() {
    for (auto& [key, channel] : channels_) channel->close();
    if (hub_) hub_->close();
    io.restart();
    io.run_for(std::chrono::seconds(5));
  }

  /// Starts a channel for each of `ids` in `cluster`, each with the others as peers.
  void join(const std::string& cluster, const std::vector<raft::NodeId>& ids) {
    for (const auto& id : ids) join(cluster, id, ids);
  }
  /// Starts a channel `id` in `cluster` whose peers are `members` (itself
  /// excluded), presenting `token` in its hello.
  void join(const std::string& cluster, const raft::NodeId& id,
            const std::vector<raft::NodeId>& members, const std::string& token = "") {
    transport::WsChannelConfig config;
    config.id = id;
    config.token = token;
    config.hub = std::string(secure_ ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port_) +
                 "/" + cluster;
    for (const auto& member : members) {
      if (member != id) config.peers.push_back(member);
    }
    config.log = [this](std::string_view line) { logs.emplace_back(line); };
    if (channel_tweak) channel_tweak(config);
    const auto key = cluster + "/" + id;
    channels_[key] = std::make_unique<transport::WsChannel>(
        io.get_executor(), config, [this, key](transport::Packet p) {
          inboxes_[key].push_back(std::get<raft::Message>(std::move(p)));
        });
    running_[key] = true;
    asio::co_spawn(io, channels_[key]->run(),
                   [this, key](std::exception_ptr e) { finished(running_[key], e); });
  }

  transport::WsChannel& channel(const raft::NodeId& id, const std::string& cluster = "x") {
    return *channels_.at(cluster + "/" + id);
  }
  std::vector<raft::Message>& inbox(const raft::NodeId& id, const std::string& cluster = "x") {
    return inboxes_[cluster + "/" + id];
  }
  transport::PeerStatus status(const raft::NodeId& of, const raft::NodeId& peer,
                               const std::string& cluster = "x") {
    for (auto& s : channel(of, cluster).status()) {
      if (s.id == peer) return s;
    }
    return {};
  }
  /// Every channel of `cluster` sees every one of its peers connected.
  bool all_connected(const std::string& cluster = "x") {
    for (const auto& [key, channel] : channels_) {
      if (key.rfind(cluster + "/", 0) != 0) continue;
      for (const auto& s : channel->status()) {
        if (!s.connected) return false;
      }
    }
    return true;
  }
  bool received(const raft::NodeId& id, raft::Term term, const std::string& cluster = "x") {
    for (const auto& m : inbox(id, cluster)) {
      if (m.term == term) return true;
    }
    return false;
  }
  bool logged(std::string_view fragment) const {
    for (const auto& line : logs) {
      if (line.find(fragment) != std::string::npos) return true;
    }
    return false;
  }

  /// Closes channel `id` and waits until its run() has returned.
  bool close_channel(const raft::NodeId& id, const std::string& cluster = "x") {
    channel(id, cluster).close();
    return run_until(io, [&] { return !running_[cluster + "/" + id]; });
  }
  /// Closes the hub and waits until its run() has returned.
  bool stop_hub() {
    hub_->close();
    return run_until(io, [&] { return !hub_running_; });
  }
  /// Starts a fresh hub on the port the old one used (still reserved).
  void restart_hub() {
    hub_.reset();
    start_hub();
  }

  transport::WsHub& hub() { return *hub_; }
  std::uint16_t port() const { return port_; }
  bool hub_running() const { return hub_running_; }
  bool channel_running(const raft::NodeId& id, const std::string& cluster = "x") {
    return running_[cluster + "/" + id];
  }

  asio::io_context io;
  /// Applied to each channel's config before it starts (TLS files, say).
  std::function<void(transport::WsChannelConfig&)> channel_tweak;
  std::vector<std::string> logs;
  std::vector<std::string> failures;  // exceptions that ended a run()

 private:
  void start_hub() {
    transport::WsHubConfig config;
    config.listen = reserved_.address();
    config.log = [this](std::string_view line) { logs.emplace_back(line); };
    if (tweak_) tweak_(config);
    secure_ = config.tls.enabled();
    hub_ = std::make_unique<transport::WsHub>(io.get_executor(), config);
    port_ = hub_->port();
    hub_running_ = true;
    asio::co_spawn(io, hub_->run(), [this](std::exception_ptr e) { finished(hub_running_, e); });
  }
  void finished(bool& running, std::exception_ptr e) {
    running = false;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      failures.emplace_back(error.what());
    }
  }

  Tweak tweak_;
  transport::PortReservation reserved_;  // the hub's, held across restarts
  std::unique_ptr<transport::WsHub> hub_;
  std::uint16_t port_ = 0;
  bool secure_ = false;  // wss://
  bool hub_running_ = false;
  std::map<std::string, std::unique_ptr<transport::WsChannel>> channels_;
  std::map<std::string, std::vector<raft::Message>> inboxes_;
  std::map<std::string, bool> running_;
};

/// One WebSocket message a raw client sends.
struct RawFrame {
  std::string bytes;
  bool text = true;
};

/// What a raw client saw; shared with its coroutine, which may outlive it.
struct RawWsState {
  explicit RawWsState(asio::io_context& io) : ws(io) {}
  websocket::stream<boost::beast::tcp_stream> ws;
  bool upgraded = false;
  bool ended = false;               // the connection is over (read side)
  boost::system::error_code error;  // what ended it
  std::vector<std::string> received;
};

inline asio::awaitable<void> drive_raw_client(std::shared_ptr<RawWsState> state, std::uint16_t port,
                                              std::string target, std::vector<RawFrame> frames,
                                              bool read) {
  auto& ws = state->ws;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  auto [connect_error] =
      co_await boost::beast::get_lowest_layer(ws).async_connect(endpoint, as_tuple_awaitable);
  const auto host = "127.0.0.1:" + std::to_string(port);
  boost::system::error_code ec = connect_error;
  if (!ec) std::tie(ec) = co_await ws.async_handshake(host, target, as_tuple_awaitable);
  state->upgraded = !ec;
  for (const auto& frame : frames) {
    if (ec) break;
    ws.text(frame.text);
    auto [write_error, n] = co_await ws.async_write(asio::buffer(frame.bytes), as_tuple_awaitable);
    ec = write_error;
  }
  while (read && !ec) {
    boost::beast::flat_buffer buffer;
    auto [read_error, n] = co_await ws.async_read(buffer, as_tuple_awaitable);
    ec = read_error;
    if (!ec) state->received.push_back(boost::beast::buffers_to_string(buffer.data()));
  }
  state->error = ec;
  state->ended = read || ec;
}

inline asio::awaitable<void> write_raw(std::shared_ptr<RawWsState> state, RawFrame frame) {
  state->ws.text(frame.text);
  auto [ec, n] = co_await state->ws.async_write(asio::buffer(frame.bytes), as_tuple_awaitable);
  if (ec && !state->error) state->error = ec;
}

/// A raw WebSocket client: connects to the hub at `target`, sends `frames`
/// in order and then, if `read`, reads until the connection ends, keeping
/// every message and the close reason.
class RawWsClient {
 public:
  RawWsClient(asio::io_context& io, std::uint16_t port, std::string target,
              std::vector<RawFrame> frames, bool read = true)
      : state_(std::make_shared<RawWsState>(io)) {
    asio::co_spawn(io, drive_raw_client(state_, port, std::move(target), std::move(frames), read),
                   [](std::exception_ptr) {});
  }
  ~RawWsClient() { boost::beast::get_lowest_layer(state_->ws).close(); }
  RawWsClient(const RawWsClient&) = delete;
  RawWsClient& operator=(const RawWsClient&) = delete;

  /// Sends one more message. Precondition: upgraded(), and the previous
  /// message is sent (a WebSocket stream allows one write at a time).
  void send(RawFrame frame) {
    asio::co_spawn(state_->ws.get_executor(), write_raw(state_, std::move(frame)),
                   [](std::exception_ptr) {});
  }

  bool upgraded() const { return state_->upgraded; }
  bool ended() const { return state_->ended; }
  boost::system::error_code error() const { return state_->error; }
  const std::vector<std::string>& received() const { return state_->received; }
  /// The close code the hub sent (0 when it sent no close frame).
  websocket::close_code close_code() const {
    return static_cast<websocket::close_code>(state_->ws.reason().code);
  }
  /// The reason in the hub's close frame.
  std::string close_text() const {
    const auto& reason = state_->ws.reason().reason;
    return std::string(reason.data(), reason.size());
  }

 private:
  std::shared_ptr<RawWsState> state_;
};

inline asio::awaitable<void> request_status(std::shared_ptr<std::optional<int>> status,
                                            asio::io_context& io, std::uint16_t port,
                                            std::string target, bool upgrade) {
  boost::beast::tcp_stream stream(io);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  auto [connect_error] = co_await stream.async_connect(endpoint, as_tuple_awaitable);
  if (connect_error) co_return;
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  if (upgrade) {
    request.set(http::field::connection, "Upgrade");
    request.set(http::field::upgrade, "websocket");
    request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    request.set(http::field::sec_websocket_version, "13");
  }
  auto [write_error, written] = co_await http::async_write(stream, request, as_tuple_awaitable);
  if (write_error) co_return;
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  auto [read_error, n] = co_await http::async_read(stream, buffer, response, as_tuple_awaitable);
  if (!read_error) *status = response.result_int();
}

/// The HTTP status the hub answers a GET of `target` with (a WebSocket
/// upgrade request if `upgrade`); nullopt if there was no answer.
inline std::optional<int> http_status(asio::io_context& io, std::uint16_t port,
                                      const std::string& target, bool upgrade) {
  auto status = std::make_shared<std::optional<int>>();
  auto done = std::make_shared<bool>(false);
  asio::co_spawn(io, request_status(status, io, port, target, upgrade),
                 [done](std::exception_ptr) { *done = true; });
  run_until(io, [&] { return *done; });
  return *status;
}

}  // namespace conflux::test
