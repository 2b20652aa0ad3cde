#pragma once
// Static configuration of one Raft node. Validated by validate(); the Raft
// constructor refuses an invalid Config with std::invalid_argument.

#include <conflux/raft/types.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace conflux::raft {

struct Config {
  /// This node's id. Must appear in `voters` unless `voters` is empty.
  NodeId id;
  /// The bootstrap configuration: the voters of a new cluster, this node
  /// included (quorum: a strict majority). It is used only until the log
  /// or a snapshot records a configuration; the first leader records it
  /// (membership.hpp). Empty: join mode, for a node that an existing
  /// cluster will add; it waits, without campaigning, to hear a leader.
  std::vector<NodeId> voters;
  /// The bootstrap voters' addresses, recorded with them (opaque to the core).
  std::map<NodeId, std::string> addresses = {};

  /// Election timeout, in ticks, drawn uniformly from [min, max] each time it
  /// is reset (Raft §5.2, randomized timeouts). Also the check-quorum period
  /// and the pre-vote "leader lease" (thesis §6.2, §9.6) use `min`.
  int election_ticks_min = 10;
  int election_ticks_max = 20;
  /// A leader sends heartbeats every this many ticks. Must be < election min.
  int heartbeat_ticks = 1;

  /// Thesis §9.6: campaign only after a majority says it would vote for us.
  bool pre_vote = true;
  /// Thesis §6.2: a leader steps down when it has not heard from a majority
  /// within an election timeout, and followers that hear from a leader ignore
  /// vote requests for that long (thesis §4.2.3).
  bool check_quorum = true;
  /// Lease reads (thesis §6.4.1), 0 to disable: a leader whose heartbeat
  /// round sent at tick t was answered by a quorum serves reads at once,
  /// without a round of its own, until tick t + lease_ticks. Safe only while
  /// no clock runs faster than another by a factor over (1 + rho) / (1 - rho)
  /// with lease_ticks <= (election_ticks_min - 1) * (1 - rho) / (1 + rho),
  /// while every voter has check_quorum on, and while the driver ticks by a
  /// clock that keeps counting when the process is stopped (raft.hpp).
  /// Must be below election_ticks_min and needs check_quorum.
  int lease_ticks = 0;

  /// Replication flow control (thesis §10.2.1 pipelining).
  std::size_t max_entries_per_message = 1024;
  std::size_t max_bytes_per_message = 1 << 20;  ///< at least one entry is always sent
  std::size_t max_inflight_messages = 64;       ///< per follower, in replicate mode
  /// Snapshot chunks (Raft §7) carry at most max_bytes_per_message bytes;
  /// this many may be in flight to one follower.
  std::size_t max_inflight_chunks = 4;
  /// When the driver compacts at index i, the log keeps the entries after
  /// i - trailing_entries (etcd's SnapshotCatchUpEntries): a follower
  /// slightly behind is still fed from the log, not sent a whole snapshot.
  std::size_t trailing_entries = 1024;
  /// Upper bound on the entries handed to the application in one Ready.
  std::size_t max_committed_bytes_per_ready = 8 << 20;

  /// Seeds the generator that draws election timeouts. Give every node a
  /// different seed (the simulation derives one per node from its own seed).
  std::uint64_t seed = 0;

  /// Empty when the config is valid; otherwise one message per problem,
  /// each naming the option and the rule it breaks.
  std::vector<std::string> validate() const;
};

}  // namespace conflux::raft
