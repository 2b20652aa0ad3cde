// WsChannel: one link to the hub that connects, shakes hands (wss://),
// upgrades, says hello, then runs a reader and a writer side by side until
// the connection fails, backs off with jitter and connects again.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <conflux/raft/random.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/maybe_tls_stream.hpp>
#include <conflux/transport/tls_context.hpp>
#include <conflux/transport/ws_channel.hpp>
#include <conflux/transport/ws_hub.hpp>
#include <deque>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "channel_core.hpp"
#include "redial.hpp"
#include "relay_peers.hpp"
#include "self_delivery.hpp"

namespace conflux::transport {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
using WsStream = websocket::stream<detail::MaybeTlsStream>;

namespace {
/// Silence after which a link is declared dead (a ping goes out at half).
constexpr std::chrono::seconds idle_timeout{10};

/// What a text that is not a packet says: the hub's member list
/// ({"type":"members","ids":[...]}, which names no sender: a peer's message
/// always has a "from", so a peer cannot pass one off), or the sender it
/// names (the hub checked that "from" is the connection it came on), if any.
struct NotAPacket {
  std::optional<std::set<raft::NodeId>> members;
  raft::NodeId from;
};

NotAPacket read_not_a_packet(std::string_view text) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  const auto* object = ec ? nullptr : value.if_object();
  if (!object) return {};
  const auto* type = object->if_contains("type");
  const auto* ids = object->if_contains("ids");
  const auto* from = object->if_contains("from");
  if (type && *type == "members" && ids && ids->is_array() && !from) {
    std::set<raft::NodeId> members;
    for (const auto& id : ids->get_array()) {
      if (id.is_string()) members.emplace(id.get_string());
    }
    return {std::move(members), {}};
  }
  return {std::nullopt, from && from->is_string() ? raft::NodeId(from->get_string()) : ""};
}

/// wss://: with the node's files, their authority (and its certificate);
/// without, the system's authorities. ws://: none.
std::shared_ptr<asio::ssl::context> hub_tls(const WsChannelConfig& config, const HubUrl& url) {
  if (!url.secure) return nullptr;
  if (!config.tls.enabled()) return detail::make_system_trust_context();
  return detail::make_tls_context(config.tls, false, config.id);
}
}  // namespace

struct WsChannel::Impl : std::enable_shared_from_this<WsChannel::Impl> {
  Impl(asio::any_io_executor ex, WsChannelConfig cfg, InboxHandler handler)
      : executor(ex),
        config(std::move(cfg)),
        url(parse_hub_url(config.hub)),
        tls(hub_tls(config, url)),
        inbox(std::move(handler)),
        random(std::random_device{}()),
        peers(config.id, config.peers),
        resolver(ex),
        wake(ex, asio::steady_timer::time_point::max()),
        pause(ex) {
    hub.name = "hub";
    hub.endpoint = url.host + ":" + url.port;
    if (config.id.empty()) throw std::invalid_argument("\"id\" must not be empty");
    validate(static_cast<const LinkSettings&>(config));
  }

  void log(const std::string& line) const {
    const auto full = "[conflux " + config.id + " ws] " + line;
    if (config.log) return config.log(full);
    std::cerr << full << '\n';
  }

  asio::awaitable<void> link();
  asio::awaitable<bool> connect_once();
  asio::awaitable<std::string> connect(WsStream& ws);
  asio::awaitable<std::string> hello(WsStream& ws);
  asio::awaitable<void> read_loop(WsStream& ws);
  asio::awaitable<void> write_loop(WsStream& ws);
  void deliver(const std::string& text);

  asio::any_io_executor executor;
  WsChannelConfig config;
  HubUrl url;
  std::shared_ptr<asio::ssl::context> tls;  // wss:// only
  InboxHandler inbox;
  raft::Random random;
  RelayPeers peers;
  LimitedLog drops;
  std::set<raft::NodeId> present;  // as the hub last said
  RelayLink hub;                   // up: welcomed by the hub
  bool closed = false;
  WsStream* live = nullptr;  // the stream while linked, for close()
  tcp::resolver resolver;
  asio::steady_timer wake;   // the writer waits here
  asio::steady_timer pause;  // backoff between attempts
};

asio::awaitable<void> WsChannel::Impl::link() {
  co_await redial(config, random, pause, closed, [this] { return connect_once(); });
}

// One connection to the hub: connect, upgrade, hello, then read and write
// until it fails. True if the hub welcomed this node.
asio::awaitable<bool> WsChannel::Impl::connect_once() {
  WsStream ws(executor, tls);
  live = &ws;
  bool welcomed = false;
  if (auto problem = co_await connect(ws); !problem.empty()) {
    if (!closed && problem != hub.last_error) log(problem);  // once, not each retry
    if (!closed) hub.last_error = std::move(problem);
  } else if (!closed) {
    const auto refusal = co_await hello(ws);
    if (refusal.empty() && !closed) {
      welcomed = hub.up = true;
      ++hub.connects;
      co_await (read_loop(ws) || write_loop(ws));
      hub.up = false;
      present.clear();
    } else if (!closed) {
      hub.last_error = "the hub refused this node: " + refusal;
      log(hub.last_error);
    }
  }
  live = nullptr;
  co_return welcomed;
}

// Resolves, connects, shakes hands (wss://) and upgrades; "" once
// upgraded, else what failed.
asio::awaitable<std::string> WsChannel::Impl::connect(WsStream& ws) {
  static const std::string unreachable = "could not connect to the hub";
  auto& stream = boost::beast::get_lowest_layer(ws);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(url.host, url.port, as_tuple_awaitable);
  if (resolve_error || closed) co_return unreachable;  // close() cancels the resolver
  stream.expires_after(config.handshake_timeout);
  auto [connect_error, endpoint] = co_await stream.async_connect(endpoints, as_tuple_awaitable);
  if (connect_error) co_return unreachable;
  stream.socket().set_option(tcp::no_delay(true));
  auto& secured = ws.next_layer();
  if (secured.secure() && !detail::expect_server_name(secured.ssl(), url.host))
    co_return "the hub's host name \"" + url.host + "\" cannot be checked against its certificate";
  if (const auto ec = co_await secured.handshake(asio::ssl::stream_base::client); ec)
    co_return "TLS with the hub failed: " + detail::handshake_failure(secured.ssl(), ec).text;
  stream.expires_never();
  ws.set_option(websocket::stream_base::timeout{
      .handshake_timeout = config.handshake_timeout,
      .idle_timeout = idle_timeout,  // a silently dead hub is noticed
      .keep_alive_pings = true});
  ws.read_message_max(config.max_message_bytes);
  const auto host = url.host + ":" + url.port;  // named: see hello()
  const auto target = "/" + url.cluster;
  auto [handshake_error] = co_await ws.async_handshake(host, target, as_tuple_awaitable);
  if (handshake_error) co_return "the hub did not upgrade: " + handshake_error.message();
  co_return "";
}

// Sends the hello and reads the hub's answer; returns why it was refused
// ("" when welcomed).
asio::awaitable<std::string> WsChannel::Impl::hello(WsStream& ws) {
  // A named local (awaitable.hpp).
  const auto text = encode(Hello{.version = protocol_version,
                                 .cluster = url.cluster,
                                 .from = config.id,
                                 .to = std::string(hub_id),
                                 .listen = {},
                                 .token = config.token});
  ws.text(true);
  auto [write_error, written] = co_await ws.async_write(asio::buffer(text), as_tuple_awaitable);
  if (write_error) co_return "the connection failed: " + write_error.message();
  asio::steady_timer deadline(executor, config.handshake_timeout);
  boost::beast::flat_buffer buffer;
  auto result = co_await (ws.async_read(buffer, as_tuple_awaitable) ||
                          deadline.async_wait(as_tuple_awaitable));
  if (result.index() == 1) co_return "no answer to the hello in time";
  if (std::get<0>(std::get<0>(result))) co_return "the connection failed";
  const auto reply = decode_hello_reply(boost::beast::buffers_to_string(buffer.data()));
  if (!reply.ok()) co_return "bad answer to the hello: " + reply.error().message();
  co_return reply.value().accepted ? "" : reply.value().reason;
}

asio::awaitable<void> WsChannel::Impl::read_loop(WsStream& ws) {
  for (;;) {
    boost::beast::flat_buffer buffer;
    auto [ec, n] = co_await ws.async_read(buffer, as_tuple_awaitable);
    if (ec) {
      if (closed) co_return;
      hub.last_error = "hub connection lost: " + ec.message();
      co_return log(hub.last_error);
    }
    deliver(boost::beast::buffers_to_string(buffer.data()));
  }
}

// A packet for this node from a peer goes to the inbox; the hub's member
// list updates who is present; anything else is dropped, counted against the
// peer that sent it (check_inbound, as on the TCP mesh) and logged. Only the
// hub's link could be closed, and it carries every peer: it stays up.
void WsChannel::Impl::deliver(const std::string& text) {
  auto decoded = decode_packet(text);
  raft::NodeId from;
  if (decoded.ok()) {
    from = sender(decoded.value());
  } else {
    auto other = read_not_a_packet(text);
    if (other.members) {
      present = std::move(*other.members);
      return;
    }
    from = std::move(other.from);
  }
  std::string why;
  auto packet = peers.admit(std::move(decoded), from, text.size(), why);
  if (!packet) {
    const auto line =
        drops.line("dropped a message on the hub link: " + why, std::chrono::steady_clock::now());
    if (!line.empty()) log(line);
    return;
  }
  inbox(std::move(*packet));
}

asio::awaitable<void> WsChannel::Impl::write_loop(WsStream& ws) {
  for (;;) {
    auto& outbox = peers.outbox();
    if (outbox.empty()) {
      wake.expires_at(asio::steady_timer::time_point::max());
      co_await wake.async_wait(as_tuple_awaitable);
      if (closed) co_return;
      continue;
    }
    ws.text(true);
    auto [ec, n] = co_await ws.async_write(asio::buffer(outbox.front().bytes), as_tuple_awaitable);
    if (ec) co_return;  // kept at the front: sent again after reconnecting
    peers.pop_written();
  }
}

WsChannel::WsChannel(asio::any_io_executor executor, WsChannelConfig config, InboxHandler inbox)
    : impl_(std::make_shared<Impl>(executor, std::move(config), std::move(inbox))) {}

WsChannel::~WsChannel() {
  close();
}

void WsChannel::send(Packet packet) {
  auto& impl = *impl_;
  const auto& to = recipient(packet);
  if (detail::delivered_to_self(impl_, to, packet)) return;
  if (impl.peers.queue(to, encode(packet), impl.config.max_message_bytes, impl.config,
                       impl.closed)) {
    impl.wake.cancel();
  }
}

asio::awaitable<void> WsChannel::run() {
  auto impl = impl_;
  co_await impl->link();
}

void WsChannel::close() {
  auto& impl = *impl_;
  if (std::exchange(impl.closed, true)) return;
  impl.wake.cancel();
  impl.pause.cancel();
  impl.resolver.cancel();
  if (impl.live) boost::beast::get_lowest_layer(*impl.live).close();
}

std::vector<PeerStatus> WsChannel::status() const {
  const auto& impl = *impl_;
  return impl.peers.status(
      [&](const auto& peer) { return impl.hub.up && impl.present.count(peer.status.id) > 0; });
}

std::string WsChannel::reload_tls() {
  auto& impl = *impl_;
  if (!impl.config.tls.enabled()) return "";  // no files: the system's authorities
  return detail::reload_tls_context(impl.tls, impl.config.tls, false, impl.config.id);
}

std::vector<RelayLink> WsChannel::relay_links() const {
  return {impl_->hub};
}

void WsChannel::set_peers(const std::map<raft::NodeId, std::string>& members) {
  impl_->peers.set_peers(members);
}

}  // namespace conflux::transport
