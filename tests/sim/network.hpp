#pragma once
// A simulated network for the Raft simulation: messages in flight are held
// in a bag and delivered in an order the seed chooses, so they can be
// reordered, delayed (left in the bag), dropped, duplicated, or cut off by a
// partition. Everything is driven by one seeded generator: a seed replays.

#include <conflux/raft/message.hpp>
#include <conflux/raft/random.hpp>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace conflux::sim {

struct NetworkFaults {
  std::uint64_t drop_per_mille = 0;
  std::uint64_t duplicate_per_mille = 0;
};

class Network {
 public:
  explicit Network(raft::Random& random) : random_(random) {}

  void set_faults(NetworkFaults faults) { faults_ = faults; }
  const NetworkFaults& faults() const { return faults_; }

  /// Queues `message`, unless the faults drop it; may queue it twice.
  void send(raft::Message message);
  /// Takes a random message in flight (reordering); nullopt when none.
  /// A message between two nodes that are cut apart is lost on delivery.
  std::optional<raft::Message> take_random();
  /// Takes the oldest message in flight (FIFO), for the healed phase.
  std::optional<raft::Message> take_oldest();
  std::size_t in_flight() const { return in_flight_.size(); }

  /// Cuts the link between a and b in both directions.
  void cut(const raft::NodeId& a, const raft::NodeId& b);
  /// Cuts `node` off from every node in `others`.
  void isolate(const raft::NodeId& node, const std::vector<raft::NodeId>& others);
  void heal() { cut_.clear(); }
  bool is_cut(const raft::NodeId& a, const raft::NodeId& b) const;

 private:
  std::optional<raft::Message> deliverable(raft::Message message) const;

  raft::Random& random_;
  NetworkFaults faults_;
  std::vector<raft::Message> in_flight_;
  std::set<std::pair<raft::NodeId, raft::NodeId>> cut_;  // (a, b) with a < b
};

}  // namespace conflux::sim
