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

#include "crc32c.hpp"
#include "file_util.hpp"
#include "record.hpp"

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
    if (!failed_ && hard_state_ != written_hard_state_) {
      sync();  // the entries the commit covers first
      write_hard_state(hard_state_, true);
    }
  } catch (const StorageError& error) {
    log(std::string("could not save the commit index at close: ") + error.what());
  }
  close_files();
}

void FileStorage::close_files() {
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
  failed_ = true;
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

void FileStorage::recover() {
  hard_state_ = read_hard_state(options_.directory / "hardstate");
  written_hard_state_ = hard_state_;
  const auto segments = list_segments(options_.directory);
  for (std::size_t i = 0; i < segments.size(); ++i)
    replay(segments[i].path, i + 1 == segments.size());
  if (hard_state_.commit > last_index_) {
    throw StorageError("hard state commit " + std::to_string(hard_state_.commit) +
                       " is beyond the last entry " + std::to_string(last_index_) + " in " +
                       options_.directory.string());
  }
  open_active(segments.empty() ? 1 : segments.back().sequence);
}

// Replays one segment. A bad record followed by a valid one is corruption
// (refuse to start); a bad record at the end of the last segment is a torn
// write (cut it off and carry on).
void FileStorage::replay(const fs::path& path, bool last) {
  const std::string bytes = read_file(path);
  if (bytes.compare(0, segment_magic.size(), segment_magic) != 0) {
    if (last && bytes.size() < segment_magic.size() && segment_magic.starts_with(bytes)) {
      log("torn segment header in " + path.string() + ": rewriting it");
      rewrite_header(path);
      return;
    }
    throw StorageError("corrupt segment " + path.string() + " at offset 0: bad magic");
  }
  std::size_t at = segment_magic.size();
  for (;;) {
    Record record;
    const auto status = read_record(std::string_view(bytes).substr(at), record);
    if (status == ReadStatus::end) return;
    if (status != ReadStatus::ok) {
      // A record whose checksum holds (bad_payload: an unknown type) was
      // written whole, so it cannot be a torn write: cutting it could drop
      // acknowledged entries.
      if (!last || status == ReadStatus::bad_payload || valid_record_after(bytes, at + 1)) {
        throw StorageError("corrupt record in " + path.string() + " at offset " +
                           std::to_string(at));
      }
      log("torn write in " + path.string() + " at offset " + std::to_string(at) + ": cutting " +
          std::to_string(bytes.size() - at) + " bytes");
      truncate_file(path, at);
      return;
    }
    apply(record, path, at);
    at += record.size;
  }
}

void FileStorage::apply(const Record& record, const fs::path& path, std::size_t at) {
  if (record.type == RecordType::truncate) {
    if (record.truncate == 0 || record.truncate > last_index_ + 1) {
      throw StorageError("corrupt record in " + path.string() + " at offset " + std::to_string(at) +
                         ": truncation past the end");
    }
    entries_.resize(record.truncate - 1);
    last_index_ = record.truncate - 1;
    return;
  }
  if (record.entry.index != last_index_ + 1) {
    throw StorageError("corrupt record in " + path.string() + " at offset " + std::to_string(at) +
                       ": entry " + std::to_string(record.entry.index) + " after " +
                       std::to_string(last_index_));
  }
  entries_.push_back(record.entry);
  last_index_ = record.entry.index;
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
      if (options_.fsync == FsyncPolicy::always) sync_directory(options_.directory);
    } catch (const StorageError& error) {
      fail(error.what());  // a segment without its header must never receive records
    }
    active_bytes_ = segment_magic.size();
  }
}

void FileStorage::append(std::span<const raft::Entry> entries) {
  if (failed_) throw StorageError("storage has failed; refusing to write");
  if (entries.empty()) return;
  if (entries.front().index == 0 || entries.front().index > last_index_ + 1) {
    throw StorageError("append of entry " + std::to_string(entries.front().index) +
                       " would leave a gap after " + std::to_string(last_index_));
  }
  std::string batch;
  if (entries.front().index <= last_index_) batch += encode_truncate_record(entries.front().index);
  for (const auto& entry : entries) batch += encode_entry_record(entry);
  try {
    write_all(*ops_, active_fd_, batch, segment_path(options_.directory, active_sequence_));
  } catch (const StorageError& error) {
    fail(error.what());
  }
  active_bytes_ += batch.size();
  last_index_ = entries.back().index;
  if (active_bytes_ >= options_.segment_bytes) rotate();
}

// Closes the full segment durably and starts the next one.
void FileStorage::rotate() {
  sync();
  ::close(active_fd_);
  active_fd_ = -1;
  open_active(active_sequence_ + 1);
}

void FileStorage::sync() {
  if (failed_) throw StorageError("storage has failed; refusing to sync");
  if (options_.fsync == FsyncPolicy::never) return;
  if (ops_->fdatasync(active_fd_) != 0) {
    fail("fdatasync of " + segment_path(options_.directory, active_sequence_).string() +
         " failed: " + std::strerror(errno));
  }
}

void FileStorage::save_hard_state(const raft::HardState& state) {
  if (failed_) throw StorageError("storage has failed; refusing to write");
  hard_state_ = state;
  if (state.term == written_hard_state_.term && state.vote == written_hard_state_.vote) return;
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
