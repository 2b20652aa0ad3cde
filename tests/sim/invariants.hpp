#pragma once
// Raft's safety properties (Raft §5.2-§5.4, Figure 3), checked incrementally
// after every simulation step:
//   election safety       at most one leader per term;
//   leader append-only    a leader never overwrites or deletes its entries;
//   log matching          same index and term => same entry and same prefix;
//   leader completeness   a leader holds every entry committed before it;
//   state machine safety  no two nodes apply different entries at an index.
// Also: one vote per term (durably), term and commit never decrease within a
// node's life, persisted term never decreases across restarts; and reads are
// linearizable (thesis §6.4): a read index covers every entry committed
// before the read was asked (that it is itself committed follows from the
// leader's commit index being so, which the properties above check).

#include <conflux/raft/raft.hpp>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace conflux::sim {

/// How the simulation's state machine records one applied entry: its
/// state is the concatenation, and a snapshot is that state.
std::string encode_applied(const raft::Entry& entry);

class InvariantChecker {
 public:
  /// A node is about to persist `ready` into `storage`. Records entries and votes.
  void on_persist(const raft::NodeId& node, raft::Role role, const raft::MemoryStorage& storage,
                  const raft::Ready& ready);
  /// A node applied `entries` (the committed part of a Ready).
  void on_apply(const raft::NodeId& node, const std::vector<raft::Entry>& entries);
  /// A node restarted from `snapshot` (index 0: none), whose bytes are
  /// `state`: its volatile history starts over from there.
  void on_restart(const raft::NodeId& node, const raft::SnapshotMeta& snapshot,
                  const std::string& state);
  /// A node installed `snapshot` into its state machine as `state`, which
  /// must equal the committed prefix replayed.
  void on_install(const raft::NodeId& node, const raft::SnapshotMeta& snapshot,
                  const std::string& state);
  /// A node installed a snapshot sent by its leader (counted, then checked).
  void on_received(const raft::NodeId& node, const raft::SnapshotMeta& snapshot,
                   const std::string& state) {
    ++installs_;
    on_install(node, snapshot, state);
  }
  /// A read asked of `node` when entries up to `committed_before` were
  /// committed anywhere was given read index `index` (nonzero).
  void on_read(const raft::NodeId& node, raft::Index committed_before, raft::Index index);
  /// After a step: checks every live node's volatile state.
  void after_step(const std::vector<const raft::Raft*>& live);

  bool ok() const { return !failure_.has_value(); }
  const std::string& failure() const { return *failure_; }
  std::size_t committed() const { return committed_.size(); }
  std::size_t installs() const { return installs_; }
  std::size_t reads() const { return reads_; }

 private:
  struct Identity {
    raft::Term prev_term = 0;
    std::string payload;
    raft::EntryType type = raft::EntryType::normal;
    bool operator==(const Identity&) const = default;
  };
  struct LeaderWatch {
    raft::Term term = 0;
    raft::Index last_index = 0;
    raft::Term last_term = 0;
  };
  struct NodeHistory {
    raft::Term term = 0;
    raft::Index commit = 0;
    raft::Index checked_commit = 0;  // log prefix already compared with committed_
    raft::Index applied = 0;
    std::optional<LeaderWatch> leading;
  };

  void fail(std::string what);
  void check_snapshot(const raft::NodeId& node, const raft::SnapshotMeta& snapshot,
                      const std::string& state);
  void check_log_matching(const raft::MemoryStorage& storage, const raft::Ready& ready);
  void check_vote(const raft::NodeId& node, const raft::HardState& state);
  void check_node(const raft::Raft& raft);
  void check_leader(const raft::Raft& raft, NodeHistory& history);
  void check_committed_prefix(const raft::Raft& raft, NodeHistory& history);
  void record_committed(const raft::Log& log, raft::Index commit);

  std::optional<std::string> failure_;
  std::size_t installs_ = 0;
  std::size_t reads_ = 0;
  std::map<raft::Term, raft::NodeId> leaders_;                         // election safety
  std::map<std::pair<raft::Index, raft::Term>, Identity> entries_;     // log matching
  std::map<std::pair<raft::NodeId, raft::Term>, raft::NodeId> votes_;  // one vote per term
  std::map<raft::NodeId, raft::Term> persisted_term_;
  std::map<raft::NodeId, NodeHistory> history_;
  std::vector<std::pair<raft::Term, std::string>> committed_;  // committed_[i - 1] = entry i
};

}  // namespace conflux::sim
