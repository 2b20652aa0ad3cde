#pragma once
// Where a node's durable state lives: the hard state and the entry log
// addressed by index. The driver writes to it while handling a Ready
// (before sending that Ready's messages); the core reads it once, at start,
// to restore itself.

#include <conflux/raft/types.hpp>
#include <deque>
#include <span>
#include <vector>

namespace conflux::raft {

class Storage {
 public:
  virtual ~Storage() = default;

  virtual HardState hard_state() const = 0;
  /// The compaction point: entries up to and including this index are gone
  /// (folded into a snapshot). 0 while nothing has been compacted.
  virtual Index snapshot_index() const = 0;
  virtual Term snapshot_term() const = 0;
  /// Every retained entry, from snapshot_index() + 1 on, in order.
  virtual std::vector<Entry> entries() const = 0;

  /// Makes `state` durable. Replaces the previous hard state atomically.
  virtual void save_hard_state(const HardState& state) = 0;
  /// Makes `entries` durable. They are contiguous; if the first one's index
  /// is at or below the last stored index, the stored suffix from there on
  /// is discarded first (a follower overwriting a conflicting tail, §5.3).
  /// Precondition: entries.front().index <= last stored index + 1.
  virtual void append(std::span<const Entry> entries) = 0;
};

/// Storage kept in memory: for tests, the simulation and embedded use where
/// durability across process restarts is not wanted. It survives a
/// simulated crash because the harness keeps it while rebuilding the node.
class MemoryStorage final : public Storage {
 public:
  HardState hard_state() const override { return hard_state_; }
  Index snapshot_index() const override { return 0; }
  Term snapshot_term() const override { return 0; }
  std::vector<Entry> entries() const override { return {entries_.begin(), entries_.end()}; }
  Index last_index() const { return entries_.size(); }
  /// Term of the stored entry at `index`; 0 for index 0. Precondition: index <= last_index().
  Term term_at(Index index) const { return index == 0 ? 0 : entries_[index - 1].term; }

  void save_hard_state(const HardState& state) override { hard_state_ = state; }
  void append(std::span<const Entry> entries) override;

 private:
  HardState hard_state_;
  // entries_[i].index == i + 1. A deque: growing never moves the entries
  // already stored (a vector touched twice the memory, copying on doubling).
  std::deque<Entry> entries_;
};

}  // namespace conflux::raft
