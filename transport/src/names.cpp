#include <conflux/transport/channel.hpp>

namespace conflux::transport {

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::queue_full:
      return "queue_full";
    case DropReason::unreachable:
      return "unreachable";
    case DropReason::unknown_peer:
      return "unknown_peer";
    case DropReason::closed:
      return "closed";
    case DropReason::fault_injected:
      return "fault_injected";
    case DropReason::decode_error:
      return "decode_error";
    case DropReason::frame_error:
      return "frame_error";
    case DropReason::misrouted:
      return "misrouted";
  }
  return "unknown";
}

}  // namespace conflux::transport
