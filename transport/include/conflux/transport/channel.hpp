#pragma once
// The channel interface lib/ drives: how packets (Raft messages and
// forwarded performs) leave and reach a node. Implementations: InProcessChannel
// (memory_channel.hpp), TcpMesh (tcp_mesh.hpp), WsChannel (ws_channel.hpp)
// and RedisChannel (redis_channel.hpp).
//
// Threading: every member function is called on the channel's executor, and
// the inbox handler is invoked there too. Give the node's owner and its
// channel the same executor (or strand) and nothing needs a lock.

#include <array>
#include <boost/asio/awaitable.hpp>
#include <conflux/transport/packet.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::transport {

/// Why a frame was dropped instead of delivered.
enum class DropReason : std::uint8_t {
  queue_full,      ///< the peer's outbound queue was full (Raft will retransmit)
  unreachable,     ///< the peer is down (in-process: not attached)
  unknown_peer,    ///< addressed to a node that is not a peer
  closed,          ///< sent after close()
  fault_injected,  ///< dropped on purpose by an in-process fault knob
  decode_error,    ///< an inbound frame was not a valid message (connection closed)
  frame_error,     ///< an inbound frame was too large or empty (connection closed)
  misrouted,       ///< an inbound message named another sender or recipient
};
inline constexpr std::size_t drop_reason_count = 8;

std::string_view to_string(DropReason reason);

struct PeerStatus {
  raft::NodeId id;
  bool connected = false;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::array<std::uint64_t, drop_reason_count> dropped{};  ///< indexed by DropReason
  std::string last_error;  ///< the latest connection problem, for logs and /status

  std::uint64_t dropped_for(DropReason reason) const {
    return dropped[static_cast<std::size_t>(reason)];
  }
  void count_drop(DropReason reason) { ++dropped[static_cast<std::size_t>(reason)]; }
};

/// A connection a channel keeps to a relay rather than to a peer: the
/// WebSocket channel's to its hub, the Redis channel's two to redis-server.
struct RelayLink {
  std::string name;            ///< "hub", "redis_subscriber" or "redis_publisher"
  std::string endpoint;        ///< host:port
  bool up = false;             ///< connected, and welcomed (hub) or subscribed (Redis)
  std::uint64_t connects = 0;  ///< times it got through
  std::string last_error;      ///< why it last failed or ended; empty: never did
};

/// Receives every inbound packet, on the channel's executor.
using InboxHandler = std::function<void(Packet)>;

class Channel {
 public:
  virtual ~Channel() = default;

  /// Queues `packet` for its recipient and returns at once; never blocks.
  /// A packet to this node itself is delivered to its own inbox. A packet
  /// that cannot be queued is dropped and counted (Raft retransmits).
  virtual void send(Packet packet) = 0;

  /// Runs the channel until close(); returns once every connection and
  /// coroutine it started has finished.
  virtual boost::asio::awaitable<void> run() = 0;

  /// Stops the channel: closes connections, cancels coroutines. Idempotent.
  /// run() returns soon after.
  virtual void close() = 0;

  /// One entry per peer (this node excluded), in id order.
  virtual std::vector<PeerStatus> status() const = 0;

  /// The cluster's membership changed (thesis §4.1): from now on the peers
  /// are exactly `peers` (id -> address; an empty address keeps the one
  /// known). Links to new peers open, links to peers gone close, and
  /// packets to or from a peer gone are dropped (DropReason::unknown_peer).
  /// A channel built with no peer at all (a node in join mode) accepts any
  /// sender of its cluster until the first call.
  virtual void set_peers(const std::map<raft::NodeId, std::string>& peers) = 0;

  /// The channel's links to its relay; none on the TCP mesh, whose links
  /// are per peer, nor in process.
  virtual std::vector<RelayLink> relay_links() const { return {}; }

  /// Connections refused before a peer could speak, by reason (see
  /// refusal_reasons in tcp_mesh.hpp): none on channels without their own
  /// listener.
  virtual std::map<std::string, std::uint64_t> refusals() const { return {}; }

  /// Reads the channel's TLS certificate, key and authority again (after a
  /// rotation): new connections use them, established ones keep theirs.
  /// "" once reloaded (or when the channel has no TLS); otherwise why not,
  /// and the ones in use stay.
  virtual std::string reload_tls() { return ""; }
};

}  // namespace conflux::transport
