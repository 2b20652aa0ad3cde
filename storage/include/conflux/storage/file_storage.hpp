#pragma once
// Durable storage for the Raft core: a write-ahead log of entries in segment
// files, and a hard-state file replaced atomically. Format: docs/storage.md.
//
// Durability contract: append() and save_hard_state() write; sync() makes
// everything written so far durable (one fdatasync), and is the only call
// that may be slow. A Ready's messages may be sent only after sync() has
// returned for its writes. After any I/O error the storage is failed: every
// later call throws StorageError, and nothing acknowledged is lost.

#include <sys/types.h>

#include <conflux/raft/storage.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace conflux::storage {

struct Record;

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

class FileStorage final : public raft::Storage {
 public:
  /// Creates the directory if needed, locks it (flock: a second process
  /// gets StorageError), and recovers: replays every segment, cuts a torn
  /// last record (logged with file and offset), and refuses to start on
  /// corruption (a bad record followed by valid ones).
  explicit FileStorage(FileStorageOptions options);
  ~FileStorage() override;
  FileStorage(const FileStorage&) = delete;
  FileStorage& operator=(const FileStorage&) = delete;

  raft::HardState hard_state() const override { return hard_state_; }
  raft::SnapshotMeta snapshot() const override { return {}; }
  std::optional<raft::Payload> read_snapshot(const raft::SnapshotMeta&, std::uint64_t,
                                             std::size_t) const override {
    return std::nullopt;
  }
  /// The log as recovered at open (the core reads it only at start; later
  /// appends are not added to this copy).
  std::vector<raft::Entry> entries() const override { return entries_; }

  /// Term and vote changes replace the hard-state file durably at once (rare).
  /// A commit-only change is remembered and written with the next term or
  /// vote change or at close: commit is volatile in Raft, and a stale
  /// commit only means re-applying from an earlier point after a restart.
  void save_hard_state(const raft::HardState& state) override;
  /// Writes entry records (and a truncation record if the first entry
  /// overwrites stored ones). Not yet durable: see sync().
  void append(std::span<const raft::Entry> entries) override;
  /// Makes everything written so far durable (one fdatasync). May run on a
  /// worker thread, provided no other member function runs meanwhile (the
  /// Ready/advance contract gives that: no new Ready until this one is done).
  void sync();

  raft::Index last_index() const { return last_index_; }
  bool failed() const { return failed_; }

 private:
  void lock_directory();
  void close_files();
  void recover();
  void replay(const std::filesystem::path& path, bool last);
  void apply(const Record& record, const std::filesystem::path& path, std::size_t offset);
  void open_active(std::uint64_t sequence);
  void rotate();
  void write_hard_state(const raft::HardState& state, bool durable);
  [[noreturn]] void fail(const std::string& what);
  void log(const std::string& line) const;

  FileStorageOptions options_;
  std::shared_ptr<FileOps> ops_;
  int lock_fd_ = -1;
  int active_fd_ = -1;
  std::uint64_t active_sequence_ = 0;
  std::uint64_t active_bytes_ = 0;
  raft::HardState hard_state_;
  raft::HardState written_hard_state_;
  std::vector<raft::Entry> entries_;  // as recovered at open
  raft::Index last_index_ = 0;
  bool failed_ = false;
};

}  // namespace conflux::storage
