#include "sim/network.hpp"

#include <algorithm>

namespace conflux::sim {

void Network::send(raft::Message message) {
  if (random_.chance(faults_.drop_per_mille, 1000)) return;
  if (random_.chance(faults_.duplicate_per_mille, 1000)) in_flight_.push_back(message);
  in_flight_.push_back(std::move(message));
}

std::optional<raft::Message> Network::take_random() {
  if (in_flight_.empty()) return std::nullopt;
  const auto i = random_.uniform(0, in_flight_.size() - 1);
  std::swap(in_flight_[i], in_flight_.back());
  raft::Message message = std::move(in_flight_.back());
  in_flight_.pop_back();
  return deliverable(std::move(message));
}

std::optional<raft::Message> Network::take_oldest() {
  if (in_flight_.empty()) return std::nullopt;
  raft::Message message = std::move(in_flight_.front());
  in_flight_.erase(in_flight_.begin());
  return deliverable(std::move(message));
}

std::optional<raft::Message> Network::deliverable(raft::Message message) const {
  if (is_cut(message.from, message.to)) return std::nullopt;
  return message;
}

void Network::cut(const raft::NodeId& a, const raft::NodeId& b) {
  if (a == b) return;
  cut_.insert(std::minmax(a, b));
}

void Network::isolate(const raft::NodeId& node, const std::vector<raft::NodeId>& others) {
  for (const auto& other : others) cut(node, other);
}

bool Network::is_cut(const raft::NodeId& a, const raft::NodeId& b) const {
  return cut_.count(std::minmax(a, b)) > 0;
}

}  // namespace conflux::sim
