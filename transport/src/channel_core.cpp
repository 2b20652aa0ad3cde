#include "channel_core.hpp"

namespace conflux::transport {

std::string hello_refusal(const Hello& hello, std::string_view cluster, std::string_view self) {
  if (hello.version != protocol_version) {
    return "protocol version " + std::to_string(hello.version) + " is not " +
           std::to_string(protocol_version);
  }
  if (hello.cluster != cluster) {
    return "cluster \"" + hello.cluster + "\" is not \"" + std::string(cluster) + "\"";
  }
  if (hello.to != self)
    return "this node is \"" + std::string(self) + "\", not \"" + hello.to + "\"";
  if (hello.from == self) return "\"" + hello.from + "\" is this node's own id";
  return {};
}

std::optional<Packet> check_inbound(Decoded<Packet> decoded, const raft::NodeId& peer,
                                    const raft::NodeId& self, PeerStatus& status) {
  if (!decoded.ok()) {
    status.count_drop(DropReason::decode_error);
    status.last_error = decoded.error().message();
    return std::nullopt;
  }
  auto& packet = decoded.value();
  if (sender(packet) != peer || recipient(packet) != self) {
    status.count_drop(DropReason::misrouted);
    status.last_error = "message from \"" + sender(packet) + "\" to \"" + recipient(packet) +
                        "\" on " + peer + "'s link";
    return std::nullopt;
  }
  ++status.frames_in;
  return std::move(packet);
}

bool QueueBound::admit(std::size_t bytes, std::size_t max_message, const LinkSettings& settings,
                       PeerStatus& status) const {
  if (bytes <= max_message && frames_ < settings.queue_max_frames &&
      bytes_ + bytes <= settings.queue_max_bytes) {
    return true;
  }
  status.count_drop(DropReason::queue_full);
  return false;
}

}  // namespace conflux::transport
