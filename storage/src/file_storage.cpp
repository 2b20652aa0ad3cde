// FileStorage: opening, locking, recovery and writing. Layout and record
// framing are in docs/storage.md and record.hpp.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <conflux/storage/file_storage.hpp>
#include <cstring>
#include <iostream>

#include "file_util.hpp"
#include "record.hpp"
#include "snapshot_file.hpp"

namespace conflux::storage {

namespace fs = std::filesystem;

ssize_t FileOps::write(int fd, const void* data, std::size_t size) {
  return ::write(fd, data, size);
}
int FileOps::fdatasync(int fd) {
  return ::fdatasync(fd);
}

FileStorage::FileStorage(FileStorageOptions options)
    : options_(std::move(options)),
      ops_(options_.ops ? options_.ops : std::make_shared<FileOps>()) {
  std::error_code ec;
  fs::create_directories(options_.directory, ec);
  if (ec)
    throw StorageError("cannot create data directory " + options_.directory.string() + ": " +
                       ec.message());
  lock_directory();
  if (options_.fsync == FsyncPolicy::never) {
    log("WARNING: fsync policy \"never\": acknowledged writes can be lost on a crash (benchmarks "
        "only)");
  }
  try {
    recover();
  } catch (const fs::filesystem_error& error) {
    close_files();
    throw StorageError(std::string("cannot recover ") + options_.directory.string() + ": " +
                       error.what());
  } catch (...) {
    close_files();
    throw;
  }
}

FileStorage::~FileStorage() {
  try {
    if (!*failed_ && hard_state_ != written_hard_state_) {
      sync();  // the entries the commit covers first
      write_hard_state(hard_state_, true);
    }
  } catch (const StorageError& error) {
    log(std::string("could not save the commit index at close: ") + error.what());
  }
  close_files();
}

void FileStorage::close_files() {
  incoming_.reset();
  for (Held* held : {&newest_, &previous_}) {
    if (held->fd >= 0) ::close(held->fd);
    held->fd = -1;
  }
  if (active_fd_ >= 0) ::close(active_fd_);
  active_fd_ = -1;
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
  lock_fd_ = -1;
}

void FileStorage::log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "[conflux storage] " << line << '\n';
  }
}

void FileStorage::fail(const std::string& what) {
  *failed_ = true;
  throw StorageError(what);
}

// One process per directory: a second one is refused, not left to corrupt it.
void FileStorage::lock_directory() {
  const auto path = options_.directory / "LOCK";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0)
    throw StorageError("cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw StorageError("data directory " + options_.directory.string() +
                         " is in use by another process (" + path.string() + " is locked)");
    }
    throw StorageError("cannot lock " + path.string() + ": " + std::strerror(error));
  }
}

void FileStorage::open_active(std::uint64_t sequence) {
  const auto path = segment_path(options_.directory, sequence);
  const bool fresh = !fs::exists(path);
  active_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (active_fd_ < 0) fail("cannot open " + path.string() + ": " + std::strerror(errno));
  active_sequence_ = sequence;
  active_bytes_ = fs::file_size(path);
  if (fresh) {
    try {
      write_all(*ops_, active_fd_, segment_magic, path);
      // The header is durable before the segment is used: a header lost to
      // a crash would make recovery take the whole segment for damage.
      if (options_.fsync == FsyncPolicy::always) {
        if (ops_->fdatasync(active_fd_) != 0) {
          fail("fdatasync of " + path.string() + " failed: " + std::strerror(errno));
        }
        sync_directory(options_.directory);
      }
    } catch (const StorageError& error) {
      fail(error.what());  // a segment without its header must never receive records
    }
    active_bytes_ = segment_magic.size();
  }
}

void FileStorage::append(std::span<const raft::Entry> entries) {
  if (*failed_) throw StorageError("storage has failed; refusing to write");
  if (entries.empty()) return;
  const auto first = entries.front().index;
  if (first == 0 || first > last_index_ + 1) {
    throw StorageError("append of entry " + std::to_string(first) + " would leave a gap after " +
                       std::to_string(last_index_));
  }
  std::string batch;
  if (first <= last_index_) batch += encode_truncate_record(first);
  for (const auto& entry : entries) batch += encode_entry_record(entry);
  write_records(batch);
  segment_first_.try_emplace(active_sequence_, first);
  if (first <= terms_base_) {
    terms_.clear();
    terms_base_ = first - 1;
  }
  terms_.resize(first - terms_base_ - 1);
  for (const auto& entry : entries) terms_.push_back(entry.term);
  last_index_ = entries.back().index;
  if (active_bytes_ >= options_.segment_bytes) rotate();
}

// One write(2) of whole records to the active segment (not yet durable).
void FileStorage::write_records(const std::string& records) {
  try {
    write_all(*ops_, active_fd_, records, segment_path(options_.directory, active_sequence_));
  } catch (const StorageError& error) {
    fail(error.what());
  }
  active_bytes_ += records.size();
  unsynced_ = true;
}

// Closes the full segment durably and starts the next one.
void FileStorage::rotate() {
  sync();
  ::close(active_fd_);
  active_fd_ = -1;
  open_active(active_sequence_ + 1);
}

void FileStorage::sync() {
  if (*failed_) throw StorageError("storage has failed; refusing to sync");
  if (options_.fsync == FsyncPolicy::never) return;
  if (ops_->fdatasync(active_fd_) != 0) {
    fail("fdatasync of " + segment_path(options_.directory, active_sequence_).string() +
         " failed: " + std::strerror(errno));
  }
  unsynced_ = false;
}

std::function<void()> FileStorage::sync_job() {
  if (*failed_) throw StorageError("storage has failed; refusing to sync");
  if (options_.fsync == FsyncPolicy::never) return [] {};
  auto path = segment_path(options_.directory, active_sequence_).string();
  const int fd = ::fcntl(active_fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) fail("cannot duplicate the descriptor of " + path + ": " + std::strerror(errno));
  struct Descriptor {
    explicit Descriptor(int owned) : fd(owned) {}
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    ~Descriptor() { ::close(fd); }
    const int fd;
  };
  // A failure fails this storage too: Linux reports a lost writeback once
  // per open file, so a later fdatasync through active_fd_ would succeed.
  return [ops = ops_, owned = std::make_shared<const Descriptor>(fd), failed = failed_,
          path = std::move(path)] {
    if (ops->fdatasync(owned->fd) == 0) return;
    const int error = errno;
    *failed = true;
    throw StorageError("fdatasync of " + path + " failed: " + std::strerror(error));
  };
}

// Durability follows the order of writes: the entries written so far are
// made durable before a new term or vote, whose file carries a commit up to
// them (recovery refuses a commit beyond the stored log), even while a
// sync_job() for them is still to run.
void FileStorage::save_hard_state(const raft::HardState& state) {
  if (*failed_) throw StorageError("storage has failed; refusing to write");
  hard_state_ = state;
  if (state.term == written_hard_state_.term && state.vote == written_hard_state_.vote) return;
  if (unsynced_) sync();
  write_hard_state(state, true);
}

// The commit written never exceeds the entries written before it: a driver
// saves a Ready's hard state before appending its entries, and a crash in
// between must not leave a commit beyond the stored log (recovery refuses
// that). The full commit follows with a later write or at close.
void FileStorage::write_hard_state(const raft::HardState& state, bool durable) {
  raft::HardState written = state;
  written.commit = std::min(state.commit, last_index_);
  try {
    replace_hard_state(*ops_, options_.directory, written,
                       durable && options_.fsync == FsyncPolicy::always);
  } catch (const StorageError& error) {
    fail(error.what());
  }
  written_hard_state_ = written;
}

}  // namespace conflux::storage
