#pragma once
// Durable storage for the Raft core: a write-ahead log of entries in segment
// files, a hard-state file replaced atomically, and snapshot files (the
// newest and the one before it). Format: docs/storage.md.
//
// Durability contract: append() and save_hard_state() write; sync() makes
// everything written so far durable (one fdatasync), and is the only call
// that may be slow. A Ready's messages may be sent only after sync() has
// returned for its writes. After any I/O error the storage is failed: every
// later call throws StorageError, and nothing acknowledged is lost.

#include <sys/types.h>

#include <atomic>
#include <conflux/raft/storage.hpp>
#include <conflux/storage/node_storage.hpp>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace conflux::storage {

enum class FsyncPolicy {
  always,  ///< fdatasync before acknowledging (the default)
  never,   ///< never sync: UNSAFE, for benchmarks only (a warning is logged)
};

/// An I/O failure, corruption, or a refusal to open. what() names the file
/// and, for corruption, the byte offset.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The system calls the storage makes on log and hard-state files; tests
/// substitute failures here.
struct FileOps {
  virtual ~FileOps() = default;
  virtual ssize_t write(int fd, const void* data, std::size_t size);
  virtual int fdatasync(int fd);
};

struct FileStorageOptions {
  std::filesystem::path directory;
  std::uint64_t segment_bytes = 64 << 20;  ///< a segment is closed once it reaches this size
  FsyncPolicy fsync = FsyncPolicy::always;
  std::function<void(const std::string&)> log;  ///< default: standard error
  std::shared_ptr<FileOps> ops;                 ///< default: the real system calls
};

class SnapshotFileWriter;
class ReplayedLog;

class FileStorage final : public NodeStorage {
 public:
  /// Creates the directory if needed, locks it (flock: a second process
  /// gets StorageError), and recovers: loads the newest valid snapshot
  /// (falling back to an older one when the log covers the gap, and
  /// refusing to start when it does not), replays every segment, cuts a
  /// torn last record (logged with file and offset), and refuses to start on
  /// corruption (a bad record followed by valid ones).
  explicit FileStorage(FileStorageOptions options);
  ~FileStorage() override;
  FileStorage(const FileStorage&) = delete;
  FileStorage& operator=(const FileStorage&) = delete;

  raft::HardState hard_state() const override { return hard_state_; }
  raft::SnapshotMeta snapshot() const override { return newest_.meta; }
  /// The log after the snapshot as recovered at open (the core reads it
  /// only at start; later appends are not added to this copy).
  std::vector<raft::Entry> entries() const override { return entries_; }
  /// Reads the newest snapshot's file or the previous one's (pread).
  std::optional<raft::Payload> read_snapshot(const raft::SnapshotMeta& meta, std::uint64_t offset,
                                             std::size_t max) const override;

  /// Term and vote changes replace the hard-state file durably at once (rare).
  /// A commit-only change is remembered and written with the next term or
  /// vote change or at close: commit is volatile in Raft, and a stale
  /// commit only means re-applying from an earlier point after a restart.
  void save_hard_state(const raft::HardState& state) override;
  /// Writes entry records (and a truncation record if the first entry
  /// overwrites stored ones). Not yet durable: see sync().
  void append(std::span<const raft::Entry> entries) override;
  /// Makes everything written so far durable (one fdatasync).
  void sync() override;
  /// One fdatasync of the active segment through a descriptor of its own
  /// (a dup), so that it may run while writes go on and the segment rotates
  /// (a rotation syncs the segment it closes).
  std::function<void()> sync_job() override;

  /// Chunks go to incoming.tmp; the last one renames it to its snapshot
  /// file and writes a base record to the log, each synced (NodeStorage).
  void write_chunk(const raft::SnapshotChunk& chunk) override;
  /// Writes snapshot-<index>.tmp; the writer's finish() syncs and renames it.
  std::unique_ptr<SnapshotWriter> begin_snapshot(const raft::SnapshotMeta& identity) override;
  bool adopt_snapshot(SnapshotWriter& writer) override;

  raft::Index last_index() const { return last_index_; }
  bool failed() const { return *failed_; }

 private:
  struct Held {
    raft::SnapshotMeta meta;
    std::filesystem::path path;
    int fd = -1;
  };

  // file_storage.cpp: opening, locking, writing the log and the hard state
  void lock_directory();
  void close_files();
  void open_active(std::uint64_t sequence);
  void rotate();
  void write_records(const std::string& records);
  void write_hard_state(const raft::HardState& state, bool durable);
  [[noreturn]] void fail(const std::string& what);
  void log(const std::string& line) const;

  // recovery.cpp
  void recover();
  std::vector<Held> usable_snapshots();
  /// A torn tail of the last segment found by replay(): cut (or, for a torn
  /// header, rewritten) only once recovery's checks have all passed, so
  /// that a refusal to start leaves the files as they were found.
  struct TornTail {
    std::filesystem::path path;
    std::size_t keep = 0;  ///< bytes kept; a torn header keeps none and is rewritten
    bool header = false;
    std::string what;  ///< for the log, and for a refusal
  };
  std::optional<TornTail> replay(const std::filesystem::path& path, std::uint64_t sequence,
                                 bool last, ReplayedLog& replayed);
  void cut(const TornTail& torn);
  /// How the log found at recovery goes on from the snapshot chosen: it
  /// holds the snapshot's last entry (continues); or it ends before it or
  /// holds another entry there (an install's base record is missing), with
  /// nothing after it or with a stale tail, which is dropped.
  enum class Continuation { continues, nothing_after, stale_tail };
  Continuation start_after(const Held& snapshot, raft::Index lost_beyond, ReplayedLog& replayed);
  void remove_leftovers();

  // snapshots.cpp
  void install(const raft::SnapshotMeta& meta);
  void hold(Held snapshot);
  void delete_covered_segments();
  void forget_terms_through(raft::Index index);

  FileStorageOptions options_;
  std::shared_ptr<FileOps> ops_;
  int lock_fd_ = -1;
  int active_fd_ = -1;
  /// Records written since this thread's last sync() (a sync_job() on
  /// another thread does not clear it: at worst one sync too many).
  bool unsynced_ = false;
  std::uint64_t active_sequence_ = 0;
  std::uint64_t active_bytes_ = 0;
  raft::HardState hard_state_;
  raft::HardState written_hard_state_;
  std::vector<raft::Entry> entries_;  // as recovered at open
  // The log: entries up to last_index_, each of whose term after
  // terms_base_ is in terms_ (what an install compares with its snapshot).
  raft::Index last_index_ = 0;
  raft::Index terms_base_ = 0;
  std::deque<raft::Term> terms_;
  // The first entry record of each segment, by sequence (what decides
  // which segments a snapshot covers).
  std::map<std::uint64_t, raft::Index> segment_first_;
  Held newest_;
  Held previous_;
  std::unique_ptr<SnapshotFileWriter> incoming_;  // a snapshot being received
  /// Shared with sync jobs, which may fail on another thread.
  std::shared_ptr<std::atomic<bool>> failed_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace conflux::storage
