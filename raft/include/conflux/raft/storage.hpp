#pragma once
// Where a node's durable state lives: the hard state, the newest snapshot
// and the entry log after it. The driver writes to it while handling a
// Ready (before sending that Ready's messages); the core reads it at start,
// to restore itself, and then only to read the chunks of snapshots it sends.

#include <conflux/raft/memory_snapshots.hpp>
#include <conflux/raft/snapshot.hpp>
#include <conflux/raft/types.hpp>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace conflux::raft {

class Storage {
 public:
  virtual ~Storage() = default;

  virtual HardState hard_state() const = 0;
  /// The newest snapshot stored (index 0: none yet).
  virtual SnapshotMeta snapshot() const = 0;
  /// Every stored entry after snapshot().index, in order, from
  /// snapshot().index + 1 on.
  virtual std::vector<Entry> entries() const = 0;
  /// Up to `max` bytes of snapshot `meta` from `offset`, at least one when
  /// offset < meta.size; nullopt when this storage no longer holds that
  /// snapshot (it may be older than snapshot()). A leader's core calls it
  /// from Raft::ready() for each chunk it sends (Raft §7), so it must be
  /// cheap: a read of the page cache, not a computation.
  virtual std::optional<Payload> read_snapshot(const SnapshotMeta& meta, std::uint64_t offset,
                                               std::size_t max) const = 0;

  /// Makes `state` durable. Replaces the previous hard state atomically.
  virtual void save_hard_state(const HardState& state) = 0;
  /// Makes `entries` durable. They are contiguous; if the first one's index
  /// is at or below the last stored index, the stored suffix from there on
  /// is discarded first (a follower overwriting a conflicting tail, §5.3).
  /// Entries at or below snapshot().index may come (a leader may compact
  /// past entries it has not written yet): the snapshot holds them, so a
  /// storage may skip them (MemoryStorage) or write them (FileStorage, whose
  /// recovery skips them).
  /// Precondition: entries.front().index <= last stored index + 1, where the
  /// snapshot's index counts as stored.
  virtual void append(std::span<const Entry> entries) = 0;
};

/// Storage kept in memory: for tests and the simulation. It survives a
/// simulated crash because the harness keeps it while rebuilding the node.
/// It holds the newest snapshot and the one before it (a leader may still be
/// sending that one), and carries out the snapshot part of a Ready.
class MemoryStorage final : public Storage {
 public:
  HardState hard_state() const override { return hard_state_; }
  SnapshotMeta snapshot() const override { return snapshots_.newest(); }
  std::vector<Entry> entries() const override { return {entries_.begin(), entries_.end()}; }
  std::optional<Payload> read_snapshot(const SnapshotMeta& meta, std::uint64_t offset,
                                       std::size_t max) const override;
  Index last_index() const { return snapshots_.newest().index + entries_.size(); }
  /// Term of the stored entry at `index`, or of the snapshot at its index.
  /// Precondition: snapshot().index <= index <= last_index().
  Term term_at(Index index) const;
  /// The bytes of snapshot().
  const Payload& snapshot_data() const { return snapshots_.newest_data(); }

  void save_hard_state(const HardState& state) override { hard_state_ = state; }
  void append(std::span<const Entry> entries) override;
  /// Keeps `data` as snapshot `meta`, taken by this node's state machine,
  /// and drops the entries it covers. Precondition: meta.index is newer than
  /// snapshot().index; when it is at most last_index(), the entry there has
  /// term meta.term (beyond it, the entries are still being written).
  void save_snapshot(const SnapshotMeta& meta, Payload data);
  /// Carries out one of a Ready's snapshot_chunks, installing the snapshot
  /// with its last chunk (ready.hpp). Throws std::invalid_argument on a
  /// chunk out of order.
  void write_chunk(const SnapshotChunk& chunk);

 private:
  HardState hard_state_;
  MemorySnapshots snapshots_;
  // entries_[i].index == snapshot().index + 1 + i. A deque: growing never
  // moves the entries already stored.
  std::deque<Entry> entries_;
};

}  // namespace conflux::raft
