#include "cluster_ready.hpp"

#include <algorithm>

namespace conflux::bench {

std::optional<std::size_t> ready_leader(const std::vector<std::optional<NodeStatus>>& statuses) {
  const auto leader = std::find_if(statuses.begin(), statuses.end(), [](const auto& status) {
    return status && status->role == "leader";
  });
  if (leader == statuses.end()) return std::nullopt;
  const auto& id = (*leader)->id;
  for (const auto& status : statuses) {
    if (!status || status->leader != id) return std::nullopt;
  }
  for (const auto& peer : (*leader)->peers) {
    if (!peer.connected) return std::nullopt;
  }
  return static_cast<std::size_t>(leader - statuses.begin());
}

}  // namespace conflux::bench
