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
#include "resp.hpp"

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
struct Link {
  explicit Link(asio::any_io_executor ex) : socket(ex) {}
  tcp::socket socket;
  resp::Reader reader;
  std::array<char, 64 * 1024> buffer{};
};

asio::awaitable<std::optional<resp::Reply>> read_reply(Link& link) {
  for (;;) {
    if (auto reply = link.reader.next()) co_return reply;
    auto [ec, n] =
        co_await link.socket.async_read_some(asio::buffer(link.buffer), as_tuple_awaitable);
    if (ec) co_return std::nullopt;
    link.reader.feed(link.buffer.data(), n);
  }
}

asio::awaitable<bool> write_all(Link& link, const std::string& bytes) {
  auto [ec, n] = co_await asio::async_write(link.socket, asio::buffer(bytes), as_tuple_awaitable);
  co_return !ec;
}
}  // namespace

struct RedisChannel::Impl : std::enable_shared_from_this<RedisChannel::Impl> {
  struct Peer {
    PeerStatus status;
    QueueBound bound;
    bool reached = false;  // the last PUBLISH to it had a subscriber
    bool removed = false;  // no longer a member; kept: the outbox points here
  };
  struct Outgoing {
    Peer* peer;
    std::string command;
  };

  Impl(asio::any_io_executor ex, RedisChannelConfig cfg, InboxHandler handler)
      : executor(ex),
        config(std::move(cfg)),
        url(parse_redis_url(config.url)),
        own_channel(redis_channel_name(config.cluster, config.id)),
        inbox(std::move(handler)),
        random(std::random_device{}()),
        resolver(ex),
        wake(ex, asio::steady_timer::time_point::max()),
        subscriber_pause(ex),
        publisher_pause(ex) {
    if (config.id.empty()) throw std::invalid_argument("\"id\" must not be empty");
    if (config.cluster.empty() || config.cluster.find(':') != std::string::npos ||
        config.id.find(':') != std::string::npos) {
      throw std::invalid_argument(
          "over Redis, the cluster name must be non-empty and neither it nor the node id may "
          "contain ':' (channel names are conflux:<cluster>:<id>)");
    }
    validate(static_cast<const LinkSettings&>(config));
    for (const auto& id : config.peers) peers[id].status.id = id;
    open = peers.empty();
  }

  void log(const std::string& line) const {
    const auto full = "[conflux " + config.id + " redis] " + line;
    if (config.log) return config.log(full);
    std::cerr << full << '\n';
  }
  std::string where() const { return url.host + ":" + url.port; }

  asio::awaitable<bool> dial(Link& link, bool& reported);
  asio::awaitable<std::string> prepare(Link& link);
  asio::awaitable<bool> subscribe_once();
  asio::awaitable<std::string> subscribe(Link& link);
  asio::awaitable<void> listen(Link& link);
  asio::awaitable<void> ping(Link& link);
  asio::awaitable<bool> publish_once();
  asio::awaitable<void> write_loop(Link& link);
  asio::awaitable<void> count_loop(Link& link);
  void deliver(const std::string& text);

  asio::any_io_executor executor;
  RedisChannelConfig config;
  RedisUrl url;
  std::string own_channel;
  InboxHandler inbox;
  raft::Random random;
  std::map<raft::NodeId, Peer> peers;
  std::deque<Outgoing> outbox;  // in send order, across peers
  std::deque<Peer*> in_flight;  // PUBLISHes written, their counts not yet read
  bool subscribed = false;
  bool publishing = false;
  bool closed = false;
  bool open = false;                 // join mode: any sender of the cluster, until set_peers()
  bool subscriber_reported = false;  // the current outage was logged
  bool publisher_reported = false;
  std::vector<Link*> live;  // for close()
  tcp::resolver resolver;
  asio::steady_timer wake;  // the publisher waits here
  asio::steady_timer subscriber_pause;
  asio::steady_timer publisher_pause;
};

// Connects within the handshake timeout. An outage is logged once, when
// the first attempt of it fails.
asio::awaitable<bool> RedisChannel::Impl::dial(Link& link, bool& reported) {
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
    if (!std::exchange(reported, true))
      log("Redis at " + where() + " is unreachable (" + error.message() + "); retrying");
    co_return false;
  }
  link.socket.set_option(tcp::no_delay(true));
  co_return true;
}

// AUTH and SELECT, as the URL asks; why they failed, or "".
asio::awaitable<std::string> RedisChannel::Impl::prepare(Link& link) {
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
  Link link(executor);
  live.push_back(&link);
  bool got_through = false;
  if (co_await dial(link, subscriber_reported)) {
    asio::steady_timer deadline(executor, config.handshake_timeout);
    auto ready = co_await (subscribe(link) || deadline.async_wait(as_tuple_awaitable));
    const auto refusal = ready.index() == 1 ? "no answer in time" : std::get<0>(ready);
    if (refusal.empty() && !closed) {
      got_through = subscribed = true;
      subscriber_reported = false;
      log("subscribed to " + own_channel + " at " + where());
      co_await (listen(link) || ping(link));
      subscribed = false;
      if (!closed) log("lost the subscription at " + where() + "; reconnecting");
    } else if (!closed && !std::exchange(subscriber_reported, true)) {
      log("Redis at " + where() + ": " + refusal + "; retrying");
    }
  }
  std::erase(live, &link);
  co_return got_through;
}

// AUTH, SELECT and SUBSCRIBE; why they failed, or "".
asio::awaitable<std::string> RedisChannel::Impl::subscribe(Link& link) {
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
// is ["pong", ""]. A link silent for three ping intervals is dead.
asio::awaitable<void> RedisChannel::Impl::listen(Link& link) {
  for (;;) {
    asio::steady_timer silence(executor, 3 * ping_interval);
    auto result = co_await (read_reply(link) || silence.async_wait(as_tuple_awaitable));
    if (result.index() == 1) co_return log("Redis at " + where() + " went silent");
    const auto& reply = std::get<0>(result);
    if (!reply) co_return;
    if (reply->kind == resp::Reply::Kind::array && reply->elements.size() == 3 &&
        reply->elements[0].text == "message") {
      deliver(reply->elements[2].text);
    }
  }
}

asio::awaitable<void> RedisChannel::Impl::ping(Link& link) {
  const auto command = resp::format({"PING"});
  for (;;) {
    asio::steady_timer pause(executor, ping_interval);
    co_await pause.async_wait(as_tuple_awaitable);
    if (closed || !co_await write_all(link, command)) co_return;
  }
}

// One publisher connection: dial, authenticate, then write and count
// until it fails. PUBLISHes written but not answered are lost with it.
asio::awaitable<bool> RedisChannel::Impl::publish_once() {
  Link link(executor);
  live.push_back(&link);
  bool got_through = false;
  if (co_await dial(link, publisher_reported)) {
    asio::steady_timer deadline(executor, config.handshake_timeout);
    auto ready = co_await (prepare(link) || deadline.async_wait(as_tuple_awaitable));
    const auto refusal = ready.index() == 1 ? "no answer in time" : std::get<0>(ready);
    if (refusal.empty() && !closed) {
      got_through = publishing = true;
      publisher_reported = false;
      co_await (write_loop(link) || count_loop(link));
      publishing = false;
      for (auto* peer : in_flight) peer->reached = false;
      in_flight.clear();
    } else if (!closed && !std::exchange(publisher_reported, true)) {
      log("Redis at " + where() + ": " + refusal + "; retrying");
    }
  }
  std::erase(live, &link);
  co_return got_through;
}

// Writes the outbox in batches; a batch leaves the outbox once written.
asio::awaitable<void> RedisChannel::Impl::write_loop(Link& link) {
  std::string batch;
  for (;;) {
    if (outbox.empty()) {
      wake.expires_at(asio::steady_timer::time_point::max());
      co_await wake.async_wait(as_tuple_awaitable);
      if (closed) co_return;
      continue;
    }
    batch.clear();
    std::size_t count = 0;
    for (; count < outbox.size() && batch.size() < max_batch_bytes; ++count)
      batch += outbox[count].command;
    if (!co_await write_all(link, batch)) co_return;  // kept: sent again on the next link
    for (std::size_t i = 0; i < count; ++i) {
      auto& next = outbox.front();
      next.peer->bound.removed(next.command.size());
      ++next.peer->status.frames_out;
      next.peer->status.bytes_out += next.command.size();
      in_flight.push_back(next.peer);
      outbox.pop_front();
    }
  }
}

// PUBLISH answers with how many subscribers got the message: 0 means the
// peer is not listening (down, or not subscribed yet).
asio::awaitable<void> RedisChannel::Impl::count_loop(Link& link) {
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
  auto peer = peers.find(from);
  if (peer == peers.end() && open && !from.empty() && from != config.id) {
    peer = peers.try_emplace(from).first;
    peer->second.status.id = from;
  }
  if (peer == peers.end() || peer->second.removed) {
    log("dropped a message on " + own_channel + ": " +
        (decoded.ok() ? "\"" + from + "\" is not a peer" : decoded.error().message()));
    return;
  }
  auto& status = peer->second.status;
  status.bytes_in += text.size();
  auto packet = check_inbound(std::move(decoded), from, config.id, status);
  if (!packet) return log("dropped a message from " + from + ": " + status.last_error);
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
  if (to == impl.config.id) {
    asio::post(impl.executor, [impl = impl_, p = std::move(packet)]() mutable {
      if (!impl->closed) impl->inbox(std::move(p));
    });
    return;
  }
  auto it = impl.peers.find(to);
  if (it == impl.peers.end()) return;
  auto& peer = it->second;
  if (impl.closed) return peer.status.count_drop(DropReason::closed);
  if (peer.removed) return peer.status.count_drop(DropReason::unknown_peer);
  const auto text = encode(packet);
  auto command = resp::format(
      {"PUBLISH", redis_channel_name(impl.config.cluster, to), std::string_view(text)});
  if (!peer.bound.admit(command.size(), impl.config.max_message_bytes + 256, impl.config,
                        peer.status)) {
    return;
  }
  peer.bound.added(command.size());
  impl.outbox.push_back({&peer, std::move(command)});
  impl.wake.cancel();
}

asio::awaitable<void> RedisChannel::run() {
  auto impl = impl_;
  // Named: g++ 12 destroys a lambda temporary of a co_await expression twice.
  auto subscriber = redial(impl->config, impl->random, impl->subscriber_pause, impl->closed,
                           [impl] { return impl->subscribe_once(); });
  auto publisher = redial(impl->config, impl->random, impl->publisher_pause, impl->closed,
                          [impl] { return impl->publish_once(); });
  co_await (std::move(subscriber) && std::move(publisher));
}

void RedisChannel::close() {
  auto& impl = *impl_;
  if (std::exchange(impl.closed, true)) return;
  impl.wake.cancel();
  impl.subscriber_pause.cancel();
  impl.publisher_pause.cancel();
  impl.resolver.cancel();
  for (auto* link : impl.live) {
    boost::system::error_code ignored;
    link->socket.close(ignored);
  }
}

std::vector<PeerStatus> RedisChannel::status() const {
  std::vector<PeerStatus> all;
  for (const auto& [id, peer] : impl_->peers) {
    if (peer.removed) continue;
    all.push_back(peer.status);
    all.back().connected = impl_->subscribed && impl_->publishing && peer.reached;
  }
  return all;
}

void RedisChannel::set_peers(const std::map<raft::NodeId, std::string>& members) {
  auto& known = impl_->peers;
  impl_->open = false;
  for (auto& [id, peer] : known) peer.removed = !members.count(id);
  for (const auto& [id, address] : members) {
    if (id != impl_->config.id) known[id].status.id = id;
  }
}

}  // namespace conflux::transport
