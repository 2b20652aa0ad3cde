#pragma once
// The storage of a node without a data directory. Nothing it holds outlives
// the process, and the core keeps every entry in its own log (raft::Log), so
// keeping a second copy of each entry here (as raft::MemoryStorage does for
// the simulation, which rebuilds crashed nodes from it) would only cost
// memory and time. It keeps the hard state, checks that appends are
// contiguous, as every Storage must, and holds snapshots in memory: the
// newest and the one before it (a leader may still be sending that one).
//
// Never restore a core from it once written: entries() is always empty.

#include <conflux/raft/memory_snapshots.hpp>
#include <conflux/storage/node_storage.hpp>
#include <string>

namespace conflux::detail {

/// A snapshot written into a string: VolatileStorage's, and a browser tab's
/// (lib/browser/tab_storage.hpp).
class StringSnapshotWriter final : public storage::SnapshotWriter {
 public:
  explicit StringSnapshotWriter(raft::SnapshotMeta identity) : meta_(std::move(identity)) {
    meta_.size = 0;
  }
  void write(std::string_view bytes) override { bytes_.append(bytes); }
  raft::SnapshotMeta finish() override {
    meta_.size = bytes_.size();
    return meta_;
  }
  const raft::SnapshotMeta& meta() const { return meta_; }
  std::string& bytes() { return bytes_; }

 private:
  raft::SnapshotMeta meta_;
  std::string bytes_;
};

class VolatileStorage final : public storage::NodeStorage {
 public:
  raft::HardState hard_state() const override { return hard_state_; }
  raft::SnapshotMeta snapshot() const override { return snapshots_.newest(); }
  std::vector<raft::Entry> entries() const override { return {}; }
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

 private:
  raft::HardState hard_state_;
  raft::Index last_index_ = 0;
  raft::MemorySnapshots snapshots_;
};

}  // namespace conflux::detail
