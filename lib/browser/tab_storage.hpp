#pragma once
// The storage of a browser tab's node: what the tab's IndexedDB held at load
// (the hard state, the newest snapshot and the log after it), restored once,
// then kept in step with each write that conflux.mjs makes durable there. A
// reload is a crash-restart: the term and vote come back, so the tab never
// votes twice in a term, and so do the snapshot and the log (Raft §7).
//
// This class decides what each write holds; conflux.mjs (TabStore.write)
// carries it out in one IndexedDB transaction, in this order:
//   snapshot     {meta, data}: becomes the newest snapshot (key "snapshot")
//   dropThrough  n: deletes the entries at or below n (the snapshot holds them)
//   dropAfter    n: deletes the entries after n (a snapshot installed over a
//                log that does not match it at its index)
//   hardState    {term, vote, commit}
//   entries      [{index, term, type, payload}]: replace the log from the
//                first one's index on (a follower's conflicting tail, §5.3)
// The log in IndexedDB is thus always the entries after the snapshot, from
// its index + 1 on, with no gap.
//
// The entries themselves are not kept here: the core's log is the copy in
// memory. Only their terms are, to decide what installing a snapshot keeps.

#include <boost/json/object.hpp>
#include <conflux/raft/memory_snapshots.hpp>
#include <conflux/raft/ready.hpp>
#include <conflux/storage/node_storage.hpp>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace conflux::browser {

class TabStorage final : public storage::NodeStorage {
 public:
  /// `restored`: {"hardState": {term, vote, commit} or null, "snapshot":
  /// {meta, data} or null, "entries": [{index, term, type, payload}, ...]},
  /// the entries in index order. Throws std::invalid_argument naming what
  /// cannot be restored (a log with a gap, a snapshot of the wrong size).
  explicit TabStorage(const std::string& restored);

  raft::HardState hard_state() const override { return hard_state_; }
  raft::SnapshotMeta snapshot() const override { return snapshots_.newest(); }
  /// The restored log, which the engine's constructor reads, until
  /// release_restored().
  std::vector<raft::Entry> entries() const override { return restored_; }
  /// The engine holds the restored log: this copy is no longer needed.
  void release_restored() { restored_ = {}; }
  std::optional<raft::Payload> read_snapshot(const raft::SnapshotMeta& meta, std::uint64_t offset,
                                             std::size_t max) const override {
    return snapshots_.read(meta, offset, max);
  }
  void save_hard_state(const raft::HardState& state) override { hard_state_ = state; }
  void append(std::span<const raft::Entry> entries) override;
  void sync() override {}
  std::function<void()> sync_job() override {
    return [] {};
  }
  void write_chunk(const raft::SnapshotChunk& chunk) override;
  std::unique_ptr<storage::SnapshotWriter> begin_snapshot(
      const raft::SnapshotMeta& identity) override;
  bool adopt_snapshot(storage::SnapshotWriter& writer) override;

  /// Carries out `ready`'s writes here, and returns the IndexedDB write that
  /// makes them durable (the header says its form).
  boost::json::object apply(const raft::Ready& ready);
  /// The IndexedDB write that stores the snapshot adopt_snapshot() just
  /// adopted, and drops the entries it covers.
  boost::json::object adopted_write() const;

 private:
  raft::Index last_index() const { return snapshots_.newest().index + terms_.size(); }
  void restore_snapshot(const boost::json::object& saved);
  void restore_entries(const boost::json::array& saved);
  void forget_through(raft::Index index);
  boost::json::object snapshot_json() const;

  raft::HardState hard_state_;
  raft::MemorySnapshots snapshots_;
  // terms_[i]: the term of the stored entry at snapshot().index + 1 + i.
  std::deque<raft::Term> terms_;
  std::vector<raft::Entry> restored_;
  // What write_chunk() did during apply(): a snapshot installed, and whether
  // the entries after it were dropped.
  bool installed_ = false;
  bool dropped_after_ = false;
};

}  // namespace conflux::browser
