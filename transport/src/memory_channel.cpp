#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <conflux/transport/memory_channel.hpp>

namespace conflux::transport {

namespace asio = boost::asio;

/// A node's attachment to the network; outlives the channel while messages
/// to it are in flight (they hold a shared_ptr).
struct InProcessNetwork::Endpoint {
  asio::any_io_executor executor;
  InboxHandler inbox;
  std::map<raft::NodeId, PeerStatus> peers;  // touched on `executor` only
  bool closed = false;
  asio::steady_timer stopped;  // run() waits on it; close() cancels it

  Endpoint(asio::any_io_executor ex, InboxHandler handler)
      : executor(ex),
        inbox(std::move(handler)),
        stopped(ex, asio::steady_timer::time_point::max()) {}

  /// Runs on `executor`: hands the packet to the node's owner.
  void deliver(Packet packet) {
    if (closed) return;
    if (auto it = peers.find(sender(packet)); it != peers.end()) ++it->second.frames_in;
    inbox(std::move(packet));
  }
};

void InProcessNetwork::set_drop_rate(std::uint64_t per_mille) {
  std::lock_guard lock(mutex_);
  drop_per_mille_ = std::min<std::uint64_t>(per_mille, 1000);
}

void InProcessNetwork::set_delay(std::chrono::milliseconds min, std::chrono::milliseconds max) {
  std::lock_guard lock(mutex_);
  min_delay_ = min;
  max_delay_ = std::max(min, max);
}

void InProcessNetwork::partition(const raft::NodeId& a, const raft::NodeId& b) {
  std::lock_guard lock(mutex_);
  cut_.insert(std::minmax(a, b));
}

void InProcessNetwork::heal(const raft::NodeId& a, const raft::NodeId& b) {
  std::lock_guard lock(mutex_);
  cut_.erase(std::minmax(a, b));
}

void InProcessNetwork::isolate(const raft::NodeId& node) {
  std::lock_guard lock(mutex_);
  isolated_.insert(node);
}

void InProcessNetwork::heal_all() {
  std::lock_guard lock(mutex_);
  cut_.clear();
  isolated_.clear();
}

bool InProcessNetwork::is_partitioned(const raft::NodeId& a, const raft::NodeId& b) const {
  std::lock_guard lock(mutex_);
  return a != b &&
         (cut_.count(std::minmax(a, b)) > 0 || isolated_.count(a) > 0 || isolated_.count(b) > 0);
}

void InProcessNetwork::attach(const raft::NodeId& id, std::shared_ptr<Endpoint> endpoint) {
  std::lock_guard lock(mutex_);
  endpoints_[id] = endpoint;
}

void InProcessNetwork::detach(const raft::NodeId& id, const std::shared_ptr<Endpoint>& endpoint) {
  std::lock_guard lock(mutex_);
  auto it = endpoints_.find(id);
  if (it != endpoints_.end() && it->second.lock() == endpoint) endpoints_.erase(it);
}

InProcessNetwork::Route InProcessNetwork::route(const raft::NodeId& from, const raft::NodeId& to) {
  const bool partitioned = is_partitioned(from, to);
  std::lock_guard lock(mutex_);
  Route route;
  if (auto it = endpoints_.find(to); it != endpoints_.end()) route.target = it->second.lock();
  route.partitioned = partitioned;
  route.dropped = from != to && random_.chance(drop_per_mille_, 1000);
  route.delay = std::chrono::milliseconds(
      static_cast<std::int64_t>(random_.uniform(static_cast<std::uint64_t>(min_delay_.count()),
                                                static_cast<std::uint64_t>(max_delay_.count()))));
  return route;
}

InProcessChannel::InProcessChannel(InProcessNetwork& network, raft::NodeId id,
                                   std::vector<raft::NodeId> peers, asio::any_io_executor executor,
                                   InboxHandler inbox)
    : network_(network),
      id_(std::move(id)),
      endpoint_(std::make_shared<InProcessNetwork::Endpoint>(executor, std::move(inbox))) {
  for (auto& peer : peers) {
    if (peer != id_) endpoint_->peers[peer].id = peer;
  }
  network_.attach(id_, endpoint_);
}

InProcessChannel::~InProcessChannel() {
  close();
}

void InProcessChannel::send(Packet message) {
  const raft::NodeId to = recipient(message);
  auto peer = endpoint_->peers.find(to);
  const bool self = to == id_;
  if (!self && peer == endpoint_->peers.end()) return;  // not a peer: nothing to count against
  PeerStatus* status = self ? nullptr : &peer->second;
  const auto count_drop = [&](DropReason reason) {
    if (status) status->count_drop(reason);
  };
  if (endpoint_->closed) return count_drop(DropReason::closed);
  auto route = network_.route(id_, to);
  if (route.partitioned || route.dropped) return count_drop(DropReason::fault_injected);
  if (!route.target) return count_drop(DropReason::unreachable);
  if (status) ++status->frames_out;
  auto target = std::move(route.target);
  if (route.delay.count() == 0) {
    asio::post(target->executor,
               [target, m = std::move(message)]() mutable { target->deliver(std::move(m)); });
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(target->executor, route.delay);
  timer->async_wait(
      [timer, target, m = std::move(message)](auto) mutable { target->deliver(std::move(m)); });
}

asio::awaitable<void> InProcessChannel::run() {
  if (endpoint_->closed) co_return;
  co_await endpoint_->stopped.async_wait(asio::as_tuple(asio::use_awaitable));
}

void InProcessChannel::close() {
  if (endpoint_->closed) return;
  endpoint_->closed = true;
  endpoint_->stopped.cancel();
  network_.detach(id_, endpoint_);
  for (auto& [id, peer] : endpoint_->peers) peer.connected = false;
}

std::vector<PeerStatus> InProcessChannel::status() const {
  std::vector<PeerStatus> out;
  for (const auto& [id, peer] : endpoint_->peers) {
    PeerStatus status = peer;
    status.connected = !endpoint_->closed && !network_.is_partitioned(id_, id);
    out.push_back(std::move(status));
  }
  return out;
}

void InProcessChannel::set_peers(const std::map<raft::NodeId, std::string>& peers) {
  auto& known = endpoint_->peers;
  for (auto it = known.begin(); it != known.end();) {
    it = peers.count(it->first) ? std::next(it) : known.erase(it);
  }
  for (const auto& [id, address] : peers) {
    if (id != id_) known[id].id = id;
  }
}

}  // namespace conflux::transport
