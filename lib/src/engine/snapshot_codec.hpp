#pragma once
// What a snapshot holds (docs/storage.md, "Snapshot contents"): one JSON
// object, {"conflux_snapshot": 1, "state": <the committed state>}, room for
// what else the replicated state machine will keep (client sessions).
// Written piece by piece and read back piece by piece, so that neither side
// holds the text whole.

#include <boost/json/value.hpp>
#include <conflux/raft/storage.hpp>
#include <conflux/storage/node_storage.hpp>

namespace conflux::detail {

/// Serializes `state` into `writer` in pieces of at most 64 KiB. Runs on a
/// worker thread: it touches nothing but its arguments.
void write_snapshot(const boost::json::value& state, storage::SnapshotWriter& writer);

/// Reads snapshot `meta` from `storage` and returns its state. Throws
/// std::runtime_error naming what is wrong (not JSON, not a snapshot, gone).
boost::json::value read_snapshot(const raft::Storage& storage, const raft::SnapshotMeta& meta);

}  // namespace conflux::detail
