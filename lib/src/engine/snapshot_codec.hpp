#pragma once
// What a snapshot holds (docs/storage.md, "Snapshot contents"): one JSON
// object, {"conflux_snapshot": 1, "state": <the committed state>,
// "sessions": <the client sessions>}: the whole replicated state machine.
// Written piece by piece and read back piece by piece, so that neither side
// holds the text whole.

#include <boost/json/value.hpp>
#include <conflux/raft/storage.hpp>
#include <conflux/storage/node_storage.hpp>

namespace conflux::detail {

/// The replicated state machine at a snapshot's index.
struct SnapshotContent {
  boost::json::value state;
  boost::json::value sessions;  ///< SessionTable::to_json(); null in snapshots older than sessions
};

/// Serializes `content` into `writer` in pieces of at most 64 KiB. Runs on a
/// worker thread: it touches nothing but its arguments.
void write_snapshot(const SnapshotContent& content, storage::SnapshotWriter& writer);

/// Reads snapshot `meta` from `storage`. Throws std::runtime_error naming
/// what is wrong (not JSON, not a snapshot, gone).
SnapshotContent read_snapshot(const raft::Storage& storage, const raft::SnapshotMeta& meta);

}  // namespace conflux::detail
