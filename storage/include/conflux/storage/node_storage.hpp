#pragma once
// What a node's driver needs of its storage beyond the core's raft::Storage:
// making writes durable, receiving and installing snapshots chunk by chunk
// (ready.hpp), and writing the snapshots its own state machine takes.
// FileStorage keeps them in files; lib/'s VolatileStorage in memory.

#include <conflux/raft/storage.hpp>
#include <functional>
#include <memory>
#include <string_view>

namespace conflux::storage {

/// Writes one snapshot of a state machine, piece by piece. It is used on
/// one thread (a worker, while the node goes on), then handed back to its
/// storage's thread through NodeStorage::adopt_snapshot.
class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;
  virtual void write(std::string_view bytes) = 0;
  /// Makes the snapshot complete and durable, and returns its identity.
  virtual raft::SnapshotMeta finish() = 0;
};

class NodeStorage : public raft::Storage {
 public:
  /// Makes every write so far durable, on the caller's thread.
  virtual void sync() = 0;
  /// A job that makes every write made so far durable, for a worker
  /// thread: it may run while this storage goes on being used (later
  /// writes, a rotation, snapshots), which it does not cover. It throws
  /// StorageError when the sync fails. Several Readys' writes may so be in
  /// flight at once (ready.hpp, "Pipelining").
  virtual std::function<void()> sync_job() = 0;
  /// Carries out one of a Ready's snapshot chunks (ready.hpp). With the last
  /// one, the snapshot is installed durably before this returns: it becomes
  /// the newest, the entries it covers are dropped, and the entries after it
  /// too unless the stored entry at its index has its term (Raft §7).
  virtual void write_chunk(const raft::SnapshotChunk& chunk) = 0;
  /// Starts a snapshot of the state after entry identity.index, whose term
  /// is identity.term, with identity.configuration (its size is ignored).
  virtual std::unique_ptr<SnapshotWriter> begin_snapshot(const raft::SnapshotMeta& identity) = 0;
  /// A finished snapshot becomes the newest, unless a newer one was
  /// installed meanwhile (then it is dropped, and false returned). Older
  /// snapshots but the one before it are deleted, with the log they cover.
  virtual bool adopt_snapshot(SnapshotWriter& writer) = 0;
};

}  // namespace conflux::storage
