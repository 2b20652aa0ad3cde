#pragma once
// The Redis channel: nodes find each other through a redis-server's pub/sub
// (the original Conflux's default channel). Each node subscribes to its own
// channel, conflux:<cluster>:<id>, on one connection, and publishes each
// packet (the JSON text of docs/protocol.md, one per PUBLISH) to its
// peer's channel on another. Both connections redial with jittered backoff;
// per-peer queues are bounded (overflow is dropped and counted: Raft
// retransmits). While Redis is away nothing is delivered and nothing is
// acknowledged that was not replicated; messages queued meanwhile go out
// once it is back, those in flight when it fell are lost.

#include <boost/asio/any_io_executor.hpp>
#include <conflux/transport/channel.hpp>
#include <conflux/transport/frame.hpp>
#include <conflux/transport/link_settings.hpp>
#include <conflux/transport/redis_url.hpp>
#include <memory>
#include <string>
#include <vector>

namespace conflux::transport {

struct RedisChannelConfig : LinkSettings {
  raft::NodeId id;
  std::string url;  ///< parse_redis_url's form
  /// Clusters sharing one Redis are apart by their names.
  std::string cluster = "conflux";
  /// Every other node of the cluster; empty: join mode, any sender of the
  /// cluster is heard until set_peers().
  std::vector<raft::NodeId> peers;
  std::size_t max_message_bytes = default_max_frame_bytes;
};

class RedisChannel final : public Channel {
 public:
  /// Throws std::invalid_argument for a bad config (the URL, an empty id).
  RedisChannel(boost::asio::any_io_executor executor, RedisChannelConfig config,
               InboxHandler inbox);
  ~RedisChannel() override;

  void send(Packet packet) override;
  boost::asio::awaitable<void> run() override;
  void close() override;
  /// A peer counts as connected while both connections are up and the last
  /// PUBLISH to it reached a subscriber.
  std::vector<PeerStatus> status() const override;
  void set_peers(const std::map<raft::NodeId, std::string>& peers) override;
  std::vector<RelayLink> relay_links() const override;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace conflux::transport
