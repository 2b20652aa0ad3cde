#pragma once
// What every channel does the same way, whatever carries its bytes (the TCP
// mesh, the WebSocket channel, the hub): the checks of a hello, the checks
// of an inbound message, and the bound on a peer's outbound queue. The same
// refusal is counted the same way on every channel.

#include <conflux/transport/channel.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/link_settings.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace conflux::transport {

/// Why `hello` must be refused by `self` in `cluster` (empty: it may be
/// welcomed so far): the protocol version, the cluster, the addressee. The
/// caller adds its own membership rule.
std::string hello_refusal(const Hello& hello, std::string_view cluster, std::string_view self);

/// The check of every inbound message: `decoded` came from `peer` (the
/// connection's authenticated sender, or the one the hub vouched for) and
/// must be well-formed, from `peer` and for `self`. On success counts a
/// frame in and returns the packet; otherwise counts the drop (decode_error
/// or misrouted), puts why in `status.last_error` and returns nullopt.
std::optional<Packet> check_inbound(Decoded<Packet> decoded, const raft::NodeId& peer,
                                    const raft::NodeId& self, PeerStatus& status);

/// One peer's share of an outbound queue, bounded by LinkSettings.
class QueueBound {
 public:
  /// Whether a message of `bytes` may be queued (at most `max_message`
  /// bytes, and within the queue's bounds); if not, counts it on `status`
  /// as queue_full.
  bool admit(std::size_t bytes, std::size_t max_message, const LinkSettings& settings,
             PeerStatus& status) const;
  void added(std::size_t bytes) {
    ++frames_;
    bytes_ += bytes;
  }
  void removed(std::size_t bytes) {
    --frames_;
    bytes_ -= bytes;
  }

 private:
  std::size_t frames_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace conflux::transport
