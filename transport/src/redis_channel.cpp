// RedisChannel: two links to redis-server, each redialled with jittered
// backoff. The subscriber authenticates, subscribes to this node's channel
// and hands each message to the inbox; the publisher authenticates, then
// pipelines PUBLISH commands from the outbox and reads their counts of
// receivers back in order.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <conflux/raft/random.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/redis_channel.hpp>
#include <deque>
#include <iostream>
#include <map>
#include <random>

#include "channel_core.hpp"
#include "redial.hpp"
#include "relay_peers.hpp"
#include "resp.hpp"
#include "self_delivery.hpp"

namespace conflux::transport {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;

namespace {
/// The subscriber pings this often; a link silent for three times as long
/// is declared dead (Redis answers a ping even with nothing to deliver).
constexpr std::chrono::seconds ping_interval{5};
/// PUBLISH commands written at once, at most.
constexpr std::size_t max_batch_bytes = 1 << 20;

/// A connection and its reply parser.
struct Connection {
  explicit Connection(asio::any_io_executor ex) : socket(ex) {}
  tcp::socket socket;
  resp::Reader reader;
  std::array<char, 64 * 1024> buffer{};
};

asio::awaitable<std::optional<resp::Reply>> read_reply(Connection& link) {
  for (;;) {
    if (auto reply = link.reader.next()) co_return reply;
    auto [ec, n] =
        co_await link.socket.async_read_some(asio::buffer(link.buffer), as_tuple_awaitable);
    if (ec) co_return std::nullopt;
    link.reader.feed(link.buffer.data(), n);
  }
}

asio::awaitable<bool> write_all(Connection& link, const std::string& bytes) {
  auto [ec, n] = co_await asio::async_write(link.socket, asio::buffer(bytes), as_tuple_awaitable);
  co_return !ec;
}
}  // namespace

struct RedisChannel::Impl : std::enable_shared_from_this<RedisChannel::Impl> {
  using Peer = RelayPeers::Peer;
  /// One of the two connections to redis-server, as status reports it.
  struct Side {
    Side(asio::any_io_executor ex, std::string name, std::string endpoint) : pause(ex) {
      link.name = std::move(name);
      link.endpoint = std::move(endpoint);
    }
    RelayLink link;
    bool reported = false;  // the current outage was logged
    asio::steady_timer pause;
  };

  Impl(asio::any_io_executor ex, RedisChannelConfig cfg, InboxHandler handler)
      : executor(ex),
        config(std::move(cfg)),
        url(parse_redis_url(config.url)),
        own_channel(redis_channel_name(config.cluster, config.id)),
        inbox(std::move(handler)),
        random(std::random_device{}()),
        peers(config.id, config.peers),
        resolver(ex),
        wake(ex, asio::steady_timer::time_point::max()),
        subscriber(ex, "redis_subscriber", url.host + ":" + url.port),
        publisher(ex, "redis_publisher", url.host + ":" + url.port) {
    if (config.id.empty()) throw std::invalid_argument("\"id\" must not be empty");
    if (config.cluster.empty() || config.cluster.find(':') != std::string::npos ||
        config.id.find(':') != std::string::npos) {
      throw std::invalid_argument(
          "over Redis, the cluster name must be non-empty and neither it nor the node id may "
          "contain ':' (channel names are conflux:<cluster>:<id>)");
    }
    validate(static_cast<const LinkSettings&>(config));
  }

  void log(const std::string& line) const {
    const auto full = "[conflux " + config.id + " redis] " + line;
    if (config.log) return config.log(full);
    std::cerr << full << '\n';
  }
  std::string where() const { return url.host + ":" + url.port; }
  void failed(Side& side, const std::string& why);
  void through(Side& side);

  asio::awaitable<bool> dial(Connection& link, Side& side);
  asio::awaitable<std::string> prepare(Connection& link);
  asio::awaitable<bool> subscribe_once();
  asio::awaitable<std::string> subscribe(Connection& link);
  asio::awaitable<std::string> listen(Connection& link);
  asio::awaitable<std::string> ping(Connection& link);
  asio::awaitable<bool> publish_once();
  asio::awaitable<void> write_loop(Connection& link);
  asio::awaitable<void> count_loop(Connection& link);
  void deliver(const std::string& text);

  asio::any_io_executor executor;
  RedisChannelConfig config;
  RedisUrl url;
  std::string own_channel;
  InboxHandler inbox;
  raft::Random random;
  RelayPeers peers;
  LimitedLog drops;
  std::deque<Peer*> in_flight;  // PUBLISHes (being) written, their counts not yet read
  bool closed = false;
  std::vector<Connection*> live;  // for close()
  tcp::resolver resolver;
  asio::steady_timer wake;  // the publisher waits here
  Side subscriber;
  Side publisher;
};

// An attempt failed, or a connection that got through ended: the reason is
// kept for status, and logged once per outage.
void RedisChannel::Impl::failed(Side& side, const std::string& why) {
  side.link.up = false;
  side.link.last_error = why;
  if (!std::exchange(side.reported, true)) log("Redis at " + where() + ": " + why + "; retrying");
}

void RedisChannel::Impl::through(Side& side) {
  side.link.up = true;
  ++side.link.connects;
  side.reported = false;
}

// Connects within the handshake timeout.
asio::awaitable<bool> RedisChannel::Impl::dial(Connection& link, Side& side) {
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(url.host, url.port, as_tuple_awaitable);
  boost::system::error_code error = resolve_error;
  if (!error && !closed) {
    asio::steady_timer deadline(executor, config.handshake_timeout);
    auto result = co_await (asio::async_connect(link.socket, endpoints, as_tuple_awaitable) ||
                            deadline.async_wait(as_tuple_awaitable));
    error = result.index() == 1 ? asio::error::timed_out : std::get<0>(std::get<0>(result));
  }
  if (closed) co_return false;
  if (error) {
    failed(side, "unreachable (" + error.message() + ")");
    co_return false;
  }
  link.socket.set_option(tcp::no_delay(true));
  co_return true;
}

// AUTH and SELECT, as the URL asks; why they failed, or "".
asio::awaitable<std::string> RedisChannel::Impl::prepare(Connection& link) {
  std::vector<std::vector<std::string_view>> commands;
  if (!url.password.empty()) {
    if (url.user.empty()) {
      commands.push_back({"AUTH", url.password});
    } else {
      commands.push_back({"AUTH", url.user, url.password});
    }
  }
  const auto db = std::to_string(url.db);
  if (url.db != 0) commands.push_back({"SELECT", db});
  for (const auto& command : commands) {
    if (!co_await write_all(link, resp::format(command))) co_return "the connection failed";
    const auto reply = co_await read_reply(link);
    if (!reply) co_return "the connection failed";
    if (reply->kind == resp::Reply::Kind::error)
      co_return std::string(command[0]) + " refused: " + reply->text;
  }
  co_return "";
}

// One subscriber connection: dial, authenticate, subscribe, then deliver
// messages until it fails. True if it got subscribed.
asio::awaitable<bool> RedisChannel::Impl::subscribe_once() {
  Connection link(executor);
  live.push_back(&link);
  bool got_through = false;
  if (co_await dial(link, subscriber)) {
    asio::steady_timer deadline(executor, config.handshake_timeout);
    auto ready = co_await (subscribe(link) || deadline.async_wait(as_tuple_awaitable));
    const auto refusal = ready.index() == 1 ? "no answer in time" : std::get<0>(ready);
    if (refusal.empty() && !closed) {
      got_through = true;
      through(subscriber);
      log("subscribed to " + own_channel + " at " + where());
      const auto ended = co_await (listen(link) || ping(link));
      const auto why = ended.index() == 0 ? std::get<0>(ended) : std::get<1>(ended);
      if (!closed) failed(subscriber, "lost the subscription (" + why + ")");
    } else if (!closed) {
      failed(subscriber, refusal);
    }
  }
  std::erase(live, &link);
  co_return got_through;
}

// AUTH, SELECT and SUBSCRIBE; why they failed, or "".
asio::awaitable<std::string> RedisChannel::Impl::subscribe(Connection& link) {
  auto refusal = co_await prepare(link);
  if (!refusal.empty()) co_return refusal;
  const auto command = resp::format({"SUBSCRIBE", own_channel});
  if (!co_await write_all(link, command)) co_return "the connection failed";
  const auto reply = co_await read_reply(link);
  if (!reply) co_return "the connection failed";
  if (reply->kind != resp::Reply::Kind::array) co_return "SUBSCRIBE refused: " + reply->text;
  co_return "";
}

// Each pub/sub message is ["message", channel, payload]; a ping's answer
// is ["pong", ""]. A link silent for three ping intervals is dead. Returns
// why the subscription ended.
asio::awaitable<std::string> RedisChannel::Impl::listen(Connection& link) {
  for (;;) {
    asio::steady_timer silence(executor, 3 * ping_interval);
    auto result = co_await (read_reply(link) || silence.async_wait(as_tuple_awaitable));
    if (result.index() == 1) co_return "Redis went silent";
    const auto& reply = std::get<0>(result);
    if (!reply) co_return "the connection was closed";
    if (reply->kind == resp::Reply::Kind::array && reply->elements.size() == 3 &&
        reply->elements[0].text == "message") {
      deliver(reply->elements[2].text);
    }
  }
}

asio::awaitable<std::string> RedisChannel::Impl::ping(Connection& link) {
  const auto command = resp::format({"PING"});
  for (;;) {
    asio::steady_timer pause(executor, ping_interval);
    co_await pause.async_wait(as_tuple_awaitable);
    if (closed || !co_await write_all(link, command)) co_return "a PING could not be written";
  }
}

// One publisher connection: dial, authenticate, then write and count
// until it fails. PUBLISHes written but not answered are lost with it.
asio::awaitable<bool> RedisChannel::Impl::publish_once() {
  Connection link(executor);
  live.push_back(&link);
  bool got_through = false;
  if (co_await dial(link, publisher)) {
    asio::steady_timer deadline(executor, config.handshake_timeout);
    auto ready = co_await (prepare(link) || deadline.async_wait(as_tuple_awaitable));
    const auto refusal = ready.index() == 1 ? "no answer in time" : std::get<0>(ready);
    if (refusal.empty() && !closed) {
      got_through = true;
      through(publisher);
      co_await (write_loop(link) || count_loop(link));
      for (auto* peer : in_flight) peer->reached = false;
      in_flight.clear();
      if (!closed) failed(publisher, "lost the publishing connection");
    } else if (!closed) {
      failed(publisher, refusal);
    }
  }
  std::erase(live, &link);
  co_return got_through;
}

// Writes the outbox in batches; a batch leaves the outbox once written.
asio::awaitable<void> RedisChannel::Impl::write_loop(Connection& link) {
  std::string batch;
  auto& outbox = peers.outbox();
  for (;;) {
    if (outbox.empty()) {
      wake.expires_at(asio::steady_timer::time_point::max());
      co_await wake.async_wait(as_tuple_awaitable);
      if (closed) co_return;
      continue;
    }
    // in_flight grows before the write: Redis may answer the first of the
    // batch before this coroutine learns that the write completed.
    batch.clear();
    std::size_t count = 0;
    for (; count < outbox.size() && batch.size() < max_batch_bytes; ++count) {
      batch += outbox[count].bytes;
      in_flight.push_back(outbox[count].peer);
    }
    if (!co_await write_all(link, batch)) co_return;  // kept: sent again on the next link
    for (std::size_t i = 0; i < count; ++i) peers.pop_written();
  }
}

// PUBLISH answers with how many subscribers got the message: 0 means the
// peer is not listening (down, or not subscribed yet).
asio::awaitable<void> RedisChannel::Impl::count_loop(Connection& link) {
  for (;;) {
    const auto reply = co_await read_reply(link);
    if (!reply) co_return;
    if (in_flight.empty()) co_return log("Redis answered a PUBLISH never sent; reconnecting");
    auto* peer = in_flight.front();
    in_flight.pop_front();
    if (reply->kind == resp::Reply::Kind::error) {
      peer->reached = false;
      peer->status.last_error = "PUBLISH refused: " + reply->text;
      log(peer->status.last_error);
    } else {
      peer->reached = reply->integer > 0;
    }
  }
}

// Anyone who may publish on this Redis can write to our channel: a message
// must decode, come from a member and be addressed to this node, else it is
// dropped, counted against the sender it claims, and logged.
void RedisChannel::Impl::deliver(const std::string& text) {
  auto decoded = decode_packet(text);
  const raft::NodeId from = decoded.ok() ? sender(decoded.value()) : raft::NodeId{};
  std::string why;
  auto packet = peers.admit(std::move(decoded), from, text.size(), why);
  if (!packet) {
    const auto line = drops.line("dropped a message on " + own_channel + ": " + why,
                                 std::chrono::steady_clock::now());
    if (!line.empty()) log(line);
    return;
  }
  inbox(std::move(*packet));
}

RedisChannel::RedisChannel(asio::any_io_executor executor, RedisChannelConfig config,
                           InboxHandler inbox)
    : impl_(std::make_shared<Impl>(executor, std::move(config), std::move(inbox))) {}

RedisChannel::~RedisChannel() {
  close();
}

void RedisChannel::send(Packet packet) {
  auto& impl = *impl_;
  const auto& to = recipient(packet);
  if (detail::delivered_to_self(impl_, to, packet)) return;
  const auto text = encode(packet);
  auto command = resp::format(
      {"PUBLISH", redis_channel_name(impl.config.cluster, to), std::string_view(text)});
  if (impl.peers.queue(to, std::move(command), impl.config.max_message_bytes + 256, impl.config,
                       impl.closed)) {
    impl.wake.cancel();
  }
}

asio::awaitable<void> RedisChannel::run() {
  auto impl = impl_;
  // Named: g++ 12 destroys a lambda temporary of a co_await expression twice.
  auto subscriber = redial(impl->config, impl->random, impl->subscriber.pause, impl->closed,
                           [impl] { return impl->subscribe_once(); });
  auto publisher = redial(impl->config, impl->random, impl->publisher.pause, impl->closed,
                          [impl] { return impl->publish_once(); });
  co_await (std::move(subscriber) && std::move(publisher));
}

void RedisChannel::close() {
  auto& impl = *impl_;
  if (std::exchange(impl.closed, true)) return;
  impl.wake.cancel();
  impl.subscriber.pause.cancel();
  impl.publisher.pause.cancel();
  impl.resolver.cancel();
  for (auto* link : impl.live) {
    boost::system::error_code ignored;
    link->socket.close(ignored);
  }
}

std::vector<PeerStatus> RedisChannel::status() const {
  const auto& impl = *impl_;
  return impl.peers.status([&](const Impl::Peer& peer) {
    return impl.subscriber.link.up && impl.publisher.link.up && peer.reached;
  });
}

std::vector<RelayLink> RedisChannel::relay_links() const {
  return {impl_->subscriber.link, impl_->publisher.link};
}

void RedisChannel::set_peers(const std::map<raft::NodeId, std::string>& members) {
  impl_->peers.set_peers(members);
}

}  // namespace conflux::transport
