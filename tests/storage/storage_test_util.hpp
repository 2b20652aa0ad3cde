#pragma once
// Helpers shared by the FileStorage tests: a unique temporary directory,
// entries whose bytes follow from their index and term, a log capture, and
// FileOps that fail, shorten or interrupt system calls on demand.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <conflux/storage/file_storage.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "support/temp_dir.hpp"

namespace conflux::storage::test {

namespace fs = std::filesystem;

/// A fresh directory, removed with everything in it when the object goes.
class TempDir : public conflux::test::TempDir {
 public:
  TempDir() : conflux::test::TempDir("conflux-storage-test") {}
};

/// The payload of the entry at (index, term): 0 to 60 bytes, all following
/// from index and term, so damage to any byte is visible on reading back.
inline std::string payload_bytes(raft::Index index, raft::Term term) {
  std::string bytes(static_cast<std::size_t>((index * 7 + term) % 61), '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>((index * 131 + term * 17 + i * 7) & 0xff);
  }
  return bytes;
}

inline raft::Entry make_entry(raft::Index index, raft::Term term) {
  auto bytes = payload_bytes(index, term);
  const auto type = bytes.empty() ? raft::EntryType::no_op : raft::EntryType::normal;
  return raft::Entry{term, index, type, raft::Payload(std::move(bytes))};
}

/// Entries first..last (inclusive), all of `term`.
inline std::vector<raft::Entry> make_entries(raft::Index first, raft::Index last, raft::Term term) {
  std::vector<raft::Entry> entries;
  for (raft::Index index = first; index <= last; ++index)
    entries.push_back(make_entry(index, term));
  return entries;
}

/// Collects what the storage logs.
struct LogLines {
  std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();

  std::function<void(const std::string&)> sink() const {
    return [lines = lines](const std::string& line) { lines->push_back(line); };
  }
  bool any_contains(const std::string& a, const std::string& b = {}) const {
    for (const auto& line : *lines) {
      if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) return true;
    }
    return false;
  }
};

inline FileStorageOptions options_for(const fs::path& directory, const LogLines& log = {},
                                      std::uint64_t segment_bytes = 64 << 20) {
  FileStorageOptions options;
  options.directory = directory;
  options.segment_bytes = segment_bytes;
  options.log = log.sink();
  return options;
}

/// Real system calls, except as told: failing every write or fdatasync,
/// failing after a countdown, writing at most a few bytes per call, or
/// reporting EINTR every other call. Counts the calls it sees.
struct FlakyOps : FileOps {
  bool fail_writes = false;
  bool fail_syncs = false;
  int writes_before_failure = -1;  ///< >= 0: that many writes succeed, then all fail
  std::size_t max_write = 0;       ///< > 0: a write takes at most this many bytes
  bool interrupt_every_other = false;
  int writes = 0;
  int syncs = 0;

  ssize_t write(int fd, const void* data, std::size_t size) override {
    ++writes;
    if (writes_before_failure == 0) fail_writes = true;
    if (writes_before_failure > 0) --writes_before_failure;
    if (fail_writes) {
      errno = EIO;
      return -1;
    }
    if (interrupt_every_other && writes % 2 == 1) {
      errno = EINTR;
      return -1;
    }
    if (max_write > 0 && size > max_write) size = max_write;
    return FileOps::write(fd, data, size);
  }
  int fdatasync(int fd) override {
    ++syncs;
    if (fail_syncs) {
      errno = EIO;
      return -1;
    }
    return FileOps::fdatasync(fd);
  }
};

/// Segment files of `directory` in name order (which is sequence order).
inline std::vector<fs::path> segment_files(const fs::path& directory) {
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(directory)) {
    const auto name = item.path().filename().string();
    if (name.starts_with("segment-") && name.ends_with(".log")) files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// XORs one byte of `path` at `offset` with `mask`.
inline void flip_byte(const fs::path& path, std::uint64_t offset, unsigned char mask = 0x5a) {
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.seekg(static_cast<std::streamoff>(offset));
  const auto byte = static_cast<unsigned char>(file.get());
  file.seekp(static_cast<std::streamoff>(offset));
  file.put(static_cast<char>(byte ^ mask));
  if (!file) throw std::runtime_error("cannot flip a byte of " + path.string());
}

}  // namespace conflux::storage::test
