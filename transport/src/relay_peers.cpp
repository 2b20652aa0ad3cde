#include "relay_peers.hpp"

namespace conflux::transport {

RelayPeers::RelayPeers(raft::NodeId self, const std::vector<raft::NodeId>& peers)
    : self_(std::move(self)), open_(peers.empty()) {
  for (const auto& id : peers) peers_[id].status.id = id;
}

bool RelayPeers::queue(const raft::NodeId& to, std::string bytes, std::size_t max_message,
                       const LinkSettings& settings, bool closed) {
  const auto it = peers_.find(to);
  if (it == peers_.end()) return false;
  auto& peer = it->second;
  if (closed) {
    peer.status.count_drop(DropReason::closed);
    return false;
  }
  if (peer.removed) {
    peer.status.count_drop(DropReason::unknown_peer);
    return false;
  }
  if (!peer.bound.admit(bytes.size(), max_message, settings, peer.status)) return false;
  peer.bound.added(bytes.size());
  outbox_.push_back({&peer, std::move(bytes)});
  return true;
}

std::optional<Packet> RelayPeers::admit(Decoded<Packet> decoded, const raft::NodeId& from,
                                        std::size_t bytes, std::string& why) {
  auto peer = peers_.find(from);
  if (peer == peers_.end() && open_ && peers_.size() >= max_open_peers) {
    why = "\"" + from + "\" is one sender too many before this node has a configuration";
    return std::nullopt;
  }
  if (peer == peers_.end() && open_ && !from.empty() && from != self_) {
    peer = peers_.try_emplace(from).first;
    peer->second.status.id = from;
  }
  if (peer == peers_.end() || peer->second.removed) {
    why = decoded.ok() ? "\"" + from + "\" is not a peer" : decoded.error().message();
    return std::nullopt;
  }
  auto& status = peer->second.status;
  status.bytes_in += bytes;
  auto packet = check_inbound(std::move(decoded), from, self_, status);
  if (!packet) why = "from " + from + ": " + status.last_error;
  return packet;
}

RelayPeers::Peer& RelayPeers::pop_written() {
  auto& next = outbox_.front();
  auto& peer = *next.peer;
  peer.bound.removed(next.bytes.size());
  ++peer.status.frames_out;
  peer.status.bytes_out += next.bytes.size();
  outbox_.pop_front();
  return peer;
}

void RelayPeers::set_peers(const std::map<raft::NodeId, std::string>& members) {
  open_ = false;
  for (auto& [id, peer] : peers_) peer.removed = !members.count(id);
  for (const auto& [id, address] : members) {
    if (id != self_) peers_[id].status.id = id;
  }
}

std::vector<PeerStatus> RelayPeers::status(
    const std::function<bool(const Peer&)>& connected) const {
  std::vector<PeerStatus> all;
  for (const auto& [id, peer] : peers_) {
    if (peer.removed) continue;
    all.push_back(peer.status);
    all.back().connected = connected(peer);
  }
  return all;
}

}  // namespace conflux::transport
