#pragma once
// Snapshots (Raft §7; thesis ch. 5): what the core knows of one, and the
// pieces in which a follower receives one. The core never holds a
// snapshot's bytes beyond one chunk: the leader reads each chunk from its
// Storage as it sends it, and a follower hands each chunk it accepts to its
// driver in a Ready.

#include <conflux/raft/membership.hpp>
#include <conflux/raft/types.hpp>
#include <cstdint>

namespace conflux::raft {

/// A snapshot's identity and size: the state machine after applying every
/// entry up to `index`, whose term is `term`, serialized in `size` bytes,
/// and the configuration in force at `index` (thesis §5.1: a snapshot
/// carries "the latest configuration as of the last included index"; empty
/// only in snapshots written before membership changes existed).
/// index 0 means "no snapshot".
struct SnapshotMeta {
  Index index = 0;
  Term term = 0;
  std::uint64_t size = 0;
  Configuration configuration = {};
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

/// Bytes [offset, offset + data.size()) of snapshot `meta`, accepted by a
/// follower. Chunks of one snapshot reach the driver in order and without
/// gaps; a chunk at offset 0 starts a snapshot afresh (whatever was received
/// of another one is dropped). `done` marks the last chunk: the snapshot is
/// whole, and the driver installs it (ready.hpp).
struct SnapshotChunk {
  SnapshotMeta meta;
  std::uint64_t offset = 0;
  Payload data;
  bool done = false;
  friend bool operator==(const SnapshotChunk&, const SnapshotChunk&) = default;
};

}  // namespace conflux::raft
