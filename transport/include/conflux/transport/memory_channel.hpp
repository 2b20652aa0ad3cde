#pragma once
// An in-process channel: nodes in one process exchange messages through an
// InProcessNetwork, with no sockets and no serialization, but with the same
// semantics as the TCP mesh (asynchronous delivery, loss tolerated, sends
// never block). Fault knobs let tests partition a cluster, drop or delay
// messages.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <conflux/raft/random.hpp>
#include <conflux/transport/channel.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace conflux::transport {

class InProcessChannel;

/// The medium that InProcessChannels share. Thread-safe: channels may run
/// on different executors.
class InProcessNetwork {
 public:
  explicit InProcessNetwork(std::uint64_t seed = 1) : random_(seed) {}

  /// Drops each message with probability per_mille / 1000.
  void set_drop_rate(std::uint64_t per_mille);
  /// Delays each message by a uniform draw from [min, max].
  void set_delay(std::chrono::milliseconds min, std::chrono::milliseconds max);
  /// Cuts the link between a and b, both ways; heal() restores it.
  void partition(const raft::NodeId& a, const raft::NodeId& b);
  void heal(const raft::NodeId& a, const raft::NodeId& b);
  /// Cuts `node` off from every other node / restores every link.
  void isolate(const raft::NodeId& node);
  void heal_all();
  bool is_partitioned(const raft::NodeId& a, const raft::NodeId& b) const;

 private:
  friend class InProcessChannel;
  struct Endpoint;
  struct Route {
    std::shared_ptr<Endpoint> target;  // null: not attached
    std::chrono::milliseconds delay{0};
    bool dropped = false;
    bool partitioned = false;
  };

  void attach(const raft::NodeId& id, std::shared_ptr<Endpoint> endpoint);
  /// Detaches `endpoint` if it is still the one attached as `id` (a node
  /// restarted under the same id may have replaced it already).
  void detach(const raft::NodeId& id, const std::shared_ptr<Endpoint>& endpoint);
  Route route(const raft::NodeId& from, const raft::NodeId& to);

  mutable std::mutex mutex_;
  raft::Random random_;
  std::uint64_t drop_per_mille_ = 0;
  std::chrono::milliseconds min_delay_{0};
  std::chrono::milliseconds max_delay_{0};
  std::set<std::pair<raft::NodeId, raft::NodeId>> cut_;  // (a, b) with a < b
  std::set<raft::NodeId> isolated_;
  std::map<raft::NodeId, std::weak_ptr<Endpoint>> endpoints_;
};

class InProcessChannel final : public Channel {
 public:
  /// Joins `network` as node `id`; `peers` lists the other nodes.
  InProcessChannel(InProcessNetwork& network, raft::NodeId id, std::vector<raft::NodeId> peers,
                   boost::asio::any_io_executor executor, InboxHandler inbox);
  ~InProcessChannel() override;

  void send(Packet packet) override;
  boost::asio::awaitable<void> run() override;
  void close() override;
  std::vector<PeerStatus> status() const override;
  void set_peers(const std::map<raft::NodeId, std::string>& peers) override;

 private:
  InProcessNetwork& network_;
  raft::NodeId id_;
  std::shared_ptr<InProcessNetwork::Endpoint> endpoint_;
};

}  // namespace conflux::transport
