#pragma once
// Snapshots kept in memory: the newest, the one before it (a leader may
// still be sending that one), and the one being received chunk by chunk.
// MemoryStorage keeps its snapshots here, and so does lib/'s
// VolatileStorage.

#include <conflux/raft/snapshot.hpp>
#include <optional>
#include <string>

namespace conflux::raft {

class MemorySnapshots {
 public:
  /// The newest snapshot (index 0: none) and its bytes.
  const SnapshotMeta& newest() const { return newest_.meta; }
  const Payload& newest_data() const { return newest_.data; }
  /// Storage::read_snapshot over the two kept.
  std::optional<Payload> read(const SnapshotMeta& meta, std::uint64_t offset,
                              std::size_t max) const;
  /// `data` becomes the newest snapshot; the newest becomes the previous.
  void keep(const SnapshotMeta& meta, Payload data);
  /// Adds one chunk of a snapshot being received (a chunk at offset 0
  /// starts one afresh). Returns true when it completed the snapshot, which
  /// is then kept as the newest. Throws std::invalid_argument, changing
  /// nothing, on a chunk that does not follow the bytes received.
  bool receive(const SnapshotChunk& chunk);

 private:
  struct Held {
    SnapshotMeta meta;
    Payload data;
  };
  Held newest_;
  Held previous_;
  SnapshotMeta receiving_;
  std::string received_;
};

}  // namespace conflux::raft
