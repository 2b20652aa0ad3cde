#pragma once
// A simulated cluster: N Raft cores, each with storage that survives
// crashes, joined by the simulated network. The driver loop here follows the
// core's contract (persist, then send, then apply, then advance) and can
// crash a node between persisting and sending.

#include <conflux/raft/raft.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/invariants.hpp"
#include "sim/network.hpp"

namespace conflux::sim {

struct SimNode {
  raft::NodeId id;
  raft::MemoryStorage storage;       // durable: survives crash()
  std::unique_ptr<raft::Raft> raft;  // null while crashed
  /// The state machine: every applied entry, encoded by encode_applied();
  /// restored from the storage's snapshot on restart and on install.
  std::string state;
  std::uint64_t lives = 0;
  /// Readys whose writes are still "in flight" (as with lib/'s fsync
  /// worker), oldest first: their early messages are out, the rest waits;
  /// the core keeps stepping and handing out Readys meanwhile (ready.hpp,
  /// "Pipelining"). They complete in order; a crash loses them, but for a
  /// prefix whose writes reached the disk.
  struct InFlight {
    raft::Ready ready;
    raft::Role role;  // the role it was produced in
  };
  std::deque<InFlight> writing;
  /// With leases: this node's clock rate, in thousandths of real time (drawn
  /// per life within the drift bound), and how far it is into its next tick.
  std::uint64_t clock_rate = 1000;
  std::uint64_t clock_phase = 0;
};

class Cluster {
 public:
  /// `size` founding voters, then `spares` nodes in join mode (no bootstrap
  /// configuration) that membership changes may add.
  Cluster(std::size_t size, std::size_t spares, std::uint64_t seed, raft::Random& random);

  std::size_t size() const { return nodes_.size(); }
  std::size_t founders() const { return founders_; }
  const std::vector<raft::NodeId>& ids() const { return ids_; }
  SimNode& node(std::size_t i) { return nodes_[i]; }
  bool alive(std::size_t i) const { return nodes_[i].raft != nullptr; }
  Network& network() { return network_; }
  InvariantChecker& checker() { return checker_; }

  void tick(std::size_t i);
  /// Whether this seed's nodes serve lease reads (thesis §6.4.1). Leases
  /// assume bounded clock drift, so their runs move one clock for all nodes
  /// (advance_time) instead of ticking nodes at random (tick).
  bool leases() const { return seed_ % 3 == 2; }
  /// Real time passes by 1/size() of a tick: each live node's clock moves at
  /// its own rate, and ticks the node each time it completes a tick.
  void advance_time();
  /// Delivers one message to its addressee, if alive. Refused messages are
  /// a bug in the core (the simulation only sends well-formed ones), but
  /// for snapshot chunks out of order.
  void deliver(raft::Message message);
  /// Delivers a message that the addressee must refuse as term_too_large
  /// without any change (types.hpp: max_term, max_term_jump). Returns what
  /// went wrong, or an empty string.
  std::string deliver_hostile(raft::Message message);
  bool propose(std::size_t i, std::string payload);
  /// Asks node i for a linearizable read (Raft::read_index); its read index,
  /// when it comes, is checked against what was committed by then.
  void read(std::size_t i);
  /// The node snapshots its state machine at its applied index and tells
  /// its core to compact (Raft §7), as lib/'s driver does.
  void compact(std::size_t i);
  /// The node stops. Of its writes in flight, a random prefix reached the
  /// disk (nothing of theirs was sent or applied); the rest is lost.
  void crash(std::size_t i);
  void restart(std::size_t i);
  /// Drains every live node's Ready. With probability crash_per_mille per
  /// Ready, the node crashes after sending its early messages but before
  /// persisting, and again after persisting but before sending the rest.
  /// Up to max_in_flight() writes per node may stay in flight across calls.
  void process(std::uint64_t crash_per_mille = 0);
  void check();

  /// Index of the live leader with the highest term, or -1.
  int leader() const;
  std::size_t live_count() const;

 private:
  SimNode* live_node(const raft::NodeId& id);  // null if unknown or crashed
  void handle_ready(std::size_t i, std::uint64_t crash_per_mille);
  bool write_chunks(std::size_t i, const raft::Ready& ready, std::uint64_t crash_per_mille);
  void finish_ready(std::size_t i, raft::Ready& ready, raft::Role role,
                    std::uint64_t crash_per_mille);
  void persist(SimNode& node, const raft::Ready& ready, raft::Role role);
  /// Readys a node may have in flight, by seed: 1 for half of them (the
  /// widest gap between a commit and the Ready that hands it out to apply),
  /// 2 to 4 for the others (writes pipelined, ready.hpp).
  std::size_t max_in_flight() const { return (seed_ / 3) % 2 == 0 ? 1 : 2 + (seed_ / 6) % 3; }
  raft::Config config_for(std::size_t i) const;
  void check_reads(std::size_t i, const std::vector<raft::ReadState>& reads);

  std::uint64_t seed_;
  std::size_t founders_;
  raft::Random& random_;
  std::vector<raft::NodeId> ids_;
  std::vector<SimNode> nodes_;
  Network network_;
  InvariantChecker checker_;
  std::uint64_t reads_asked_ = 0;
  std::map<std::uint64_t, raft::Index> committed_before_read_;  // by read id
};

}  // namespace conflux::sim
