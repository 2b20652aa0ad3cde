#include "file_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "bytes.hpp"
#include "crc32c.hpp"
#include "record.hpp"

namespace conflux::storage {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view hard_state_magic = "CFLXHS01";

std::string system_error(const std::string& what, const fs::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

}  // namespace

fs::path segment_path(const fs::path& directory, std::uint64_t sequence) {
  char name[32];
  std::snprintf(name, sizeof name, "segment-%010llu.log",
                static_cast<unsigned long long>(sequence));
  return directory / name;
}

std::vector<NumberedFile> numbered_files(const fs::path& directory, const char* scan,
                                         fs::path (*path_of)(const fs::path&, std::uint64_t)) {
  std::vector<NumberedFile> files;
  for (const auto& item : fs::directory_iterator(directory)) {
    const auto name = item.path().filename().string();
    unsigned long long number = 0;
    char tail[8] = {};
    if (std::sscanf(name.c_str(), scan, &number, tail) == 2 &&
        name == path_of(directory, number).filename().string()) {
      files.push_back({number, item.path()});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const NumberedFile& a, const NumberedFile& b) { return a.number < b.number; });
  return files;
}

// One read(2) loop into a string sized from the file: recovery reads every
// segment whole, and a stream would double the cost.
std::string read_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw StorageError(system_error("cannot read", path));
  struct stat info {};
  std::string bytes;
  if (::fstat(fd, &info) == 0) bytes.resize(static_cast<std::size_t>(info.st_size));
  std::size_t filled = 0;
  for (;;) {
    if (filled == bytes.size()) bytes.resize(bytes.size() + 4096);
    const auto got = ::read(fd, bytes.data() + filled, bytes.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const bool failed = got < 0;
      ::close(fd);
      if (failed) throw StorageError(system_error("cannot read", path));
      bytes.resize(filled);
      return bytes;
    }
    filled += static_cast<std::size_t>(got);
  }
}

void truncate_file(const fs::path& path, std::size_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0)
    throw StorageError(system_error("cannot truncate", path));
}

void rewrite_header(const fs::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << segment_magic;
  out.close();  // the bytes are written here: only now can a failure show
  if (!out) throw StorageError(system_error("cannot rewrite", path));
}

bool valid_record_after(std::string_view bytes, std::size_t from) {
  for (std::size_t at = from; at + record_header_bytes <= bytes.size(); ++at) {
    Record record;
    if (read_record(bytes.substr(at), record) == ReadStatus::ok) return true;
  }
  return false;
}

void write_all(FileOps& ops, int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const auto written = ops.write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw StorageError(system_error("cannot write", path));
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
}

void sync_directory(const fs::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw StorageError(system_error("cannot open", directory));
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) throw StorageError(system_error("cannot fsync", directory));
}

raft::HardState read_hard_state(const fs::path& path) {
  if (!fs::exists(path)) return {};
  const std::string bytes = read_file(path);
  const auto bad = [&](const std::string& why) {
    return StorageError("corrupt hard state " + path.string() + " at offset 0: " + why);
  };
  if (bytes.size() < hard_state_magic.size() + 24 || bytes.compare(0, 8, hard_state_magic) != 0)
    throw bad("bad header");
  const auto vote_size = get_le(bytes, 24, 4);
  if (bytes.size() != 28 + vote_size + 4) throw bad("bad length");
  if (crc32c(bytes.data(), bytes.size() - 4) != get_le(bytes, bytes.size() - 4, 4))
    throw bad("bad checksum");
  return raft::HardState{get_le(bytes, 8, 8), bytes.substr(28, vote_size), get_le(bytes, 16, 8)};
}

void replace_hard_state(FileOps& ops, const fs::path& directory, const raft::HardState& state,
                        bool durable) {
  std::string bytes(hard_state_magic);
  put_le(bytes, state.term, 8);
  put_le(bytes, state.commit, 8);
  put_le(bytes, state.vote.size(), 4);
  bytes += state.vote;
  put_le(bytes, crc32c(bytes.data(), bytes.size()), 4);
  const auto temporary = directory / "hardstate.tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw StorageError(system_error("cannot open", temporary));
  try {
    write_all(ops, fd, bytes, temporary);
    if (durable && ops.fdatasync(fd) != 0)
      throw StorageError(system_error("cannot fdatasync", temporary));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (std::rename(temporary.c_str(), (directory / "hardstate").c_str()) != 0) {
    throw StorageError(system_error("cannot rename", temporary));
  }
  if (durable) sync_directory(directory);
}

}  // namespace conflux::storage
