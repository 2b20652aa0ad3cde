#pragma once
// The peers of a channel that reaches them all through one relay (the
// WebSocket channel's hub, the Redis channel's redis-server): who is a
// member, each one's traffic counters and its share of the outbound queue,
// and the queue itself, in send order across peers. The channel owns the
// connection; this owns the bookkeeping, so that both relayed channels
// admit, account and refuse the same way.
//
// Invariants: an entry is never erased, only marked removed (the outbox
// points at entries); a removed peer neither sends nor receives; the sum
// of the bytes queued for a peer is what its QueueBound holds.

#include <chrono>
#include <conflux/transport/channel.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/link_settings.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "channel_core.hpp"
#include "limited_log.hpp"

namespace conflux::transport {

class RelayPeers {
 public:
  static constexpr std::size_t max_open_peers = 256;

  struct Peer {
    PeerStatus status;
    QueueBound bound;
    bool removed = false;  ///< no longer a member (set_peers)
    /// Redis: the last PUBLISH to it reached a subscriber (the hub says who
    /// is present in a message of its own instead).
    bool reached = false;
  };
  struct Outgoing {
    Peer* peer;
    std::string bytes;  ///< as written to the relay
  };

  /// `peers` empty: join mode, any sender of the cluster is heard until
  /// set_peers(), up to max_open_peers of them (whoever reaches the relay
  /// may claim any id: the table must not grow without bound).
  RelayPeers(raft::NodeId self, const std::vector<raft::NodeId>& peers);

  /// Queues `bytes` for `to` if it is a member and its bound admits them
  /// (at most `max_message` bytes); otherwise counts the drop. False when
  /// dropped or when `to` is no peer at all.
  bool queue(const raft::NodeId& to, std::string bytes, std::size_t max_message,
             const LinkSettings& settings, bool closed);

  /// The inbound check of a message relayed to this node that names
  /// `from` as its sender (check_inbound, after the membership rule).
  /// nullopt with `why` set when it must be dropped.
  std::optional<Packet> admit(Decoded<Packet> decoded, const raft::NodeId& from, std::size_t bytes,
                              std::string& why);

  std::deque<Outgoing>& outbox() { return outbox_; }
  /// The outbox's front was written: counts it and returns its peer.
  Peer& pop_written();

  void set_peers(const std::map<raft::NodeId, std::string>& members);
  /// Every member, with `connected(peer)` as its connection state.
  std::vector<PeerStatus> status(const std::function<bool(const Peer&)>& connected) const;

 private:
  raft::NodeId self_;
  std::map<raft::NodeId, Peer> peers_;
  std::deque<Outgoing> outbox_;
  bool open_ = false;
};

}  // namespace conflux::transport
