#include "snapshot_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "bytes.hpp"
#include "crc32c.hpp"
#include "file_util.hpp"

namespace conflux::storage {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t write_buffer_bytes = 1 << 20;

std::string footer(const raft::SnapshotMeta& meta, std::size_t config_bytes,
                   std::uint32_t data_crc) {
  std::string out;
  put_le(out, meta.index, 8);
  put_le(out, meta.term, 8);
  put_le(out, meta.size, 8);
  put_le(out, config_bytes, 4);
  put_le(out, data_crc, 4);
  put_le(out, crc32c(out.data(), out.size()), 4);
  return out;
}

StorageError bad_snapshot(const fs::path& path, const std::string& why) {
  return StorageError("snapshot " + path.string() + " is unusable: " + why);
}

// pread() until `size` bytes are in, or the file ends.
std::size_t read_at(int fd, char* out, std::size_t size, std::uint64_t offset,
                    const fs::path& path) {
  std::size_t filled = 0;
  while (filled < size) {
    const auto got = ::pread(fd, out + filled, size - filled, static_cast<off_t>(offset + filled));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw StorageError("cannot read " + path.string() + ": " + std::strerror(errno));
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  return filled;
}

}  // namespace

fs::path snapshot_path(const fs::path& directory, raft::Index index) {
  char name[48];
  std::snprintf(name, sizeof name, "snapshot-%020llu.snap", static_cast<unsigned long long>(index));
  return directory / name;
}

std::vector<NumberedFile> list_snapshot_files(const fs::path& directory) {
  auto files = numbered_files(directory, "snapshot-%20llu.%4s", snapshot_path);
  std::reverse(files.begin(), files.end());
  return files;
}

SnapshotFile verify_snapshot_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw bad_snapshot(path, std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const auto file_size = static_cast<std::uint64_t>(fs::file_size(path));
  if (file_size < snapshot_magic.size() + snapshot_footer_bytes) {
    throw bad_snapshot(path, "truncated (" + std::to_string(file_size) + " bytes)");
  }
  std::string head(snapshot_magic.size(), '\0');
  read_at(fd, head.data(), head.size(), 0, path);
  if (head == "CFLXSNP1") throw bad_snapshot(path, "written by an older version (CFLXSNP1)");
  if (head != snapshot_magic) throw bad_snapshot(path, "bad magic at offset 0");
  std::string tail(snapshot_footer_bytes, '\0');
  const auto footer_at = file_size - snapshot_footer_bytes;
  read_at(fd, tail.data(), tail.size(), footer_at, path);
  if (crc32c(tail.data(), 32) != get_le(tail, 32, 4)) {
    throw bad_snapshot(path, "bad footer checksum at offset " + std::to_string(footer_at));
  }
  raft::SnapshotMeta meta{get_le(tail, 0, 8), get_le(tail, 8, 8), get_le(tail, 16, 8), {}};
  const auto config_bytes = get_le(tail, 24, 4);
  const auto body = footer_at - snapshot_magic.size();
  if (meta.size > body || body - meta.size != config_bytes) {
    throw bad_snapshot(path, "truncated: the footer says " + std::to_string(meta.size) + " + " +
                                 std::to_string(config_bytes) + " bytes, the file holds " +
                                 std::to_string(body));
  }
  if (path.filename() != snapshot_path(path.parent_path(), meta.index).filename()) {
    throw bad_snapshot(path, "its footer names index " + std::to_string(meta.index));
  }
  if (meta.index == 0 || meta.term == 0 || meta.size == 0) {
    throw bad_snapshot(path, "index, term or size is 0");
  }
  std::uint32_t crc = 0;
  std::string block(write_buffer_bytes, '\0');
  for (std::uint64_t at = 0; at < meta.size;) {
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), meta.size - at));
    read_at(fd, block.data(), want, snapshot_magic.size() + at, path);
    crc = crc32c(block.data(), want, crc);
    at += want;
  }
  std::string config_text(config_bytes, '\0');
  read_at(fd, config_text.data(), config_text.size(), snapshot_magic.size() + meta.size, path);
  crc = crc32c(config_text.data(), config_text.size(), crc);
  if (crc != get_le(tail, 28, 4)) throw bad_snapshot(path, "bad checksum of its bytes");
  if (config_bytes > 0) {
    auto config = raft::decode_configuration(config_text);
    if (!config) throw bad_snapshot(path, "its configuration is unreadable");
    meta.configuration = std::move(*config);
  }
  return SnapshotFile{meta, path};
}

std::string read_snapshot_bytes(int fd, const fs::path& path, std::uint64_t offset,
                                std::size_t max) {
  std::string out(max, '\0');
  out.resize(read_at(fd, out.data(), max, snapshot_magic.size() + offset, path));
  return out;
}

SnapshotFileWriter::SnapshotFileWriter(fs::path directory, fs::path temporary,
                                       raft::SnapshotMeta identity, std::shared_ptr<FileOps> ops,
                                       bool durable)
    : directory_(std::move(directory)),
      temporary_(std::move(temporary)),
      final_(snapshot_path(directory_, identity.index)),
      meta_(std::move(identity)),
      ops_(std::move(ops)),
      durable_(durable) {
  meta_.size = 0;
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw StorageError("cannot create " + temporary_.string() + ": " + std::strerror(errno));
  buffer_.reserve(write_buffer_bytes + 64);
  buffer_ = snapshot_magic;
}

SnapshotFileWriter::~SnapshotFileWriter() {
  if (fd_ >= 0) {  // never finished: the temporary file goes
    ::close(fd_);
    ::unlink(temporary_.c_str());
  }
}

void SnapshotFileWriter::write(std::string_view bytes) {
  crc_ = crc32c(bytes.data(), bytes.size(), crc_);
  meta_.size += bytes.size();
  buffer_.append(bytes);
  if (buffer_.size() >= write_buffer_bytes) {
    write_all(*ops_, fd_, buffer_, temporary_);
    buffer_.clear();
  }
}

raft::SnapshotMeta SnapshotFileWriter::finish() {
  const auto config_text =
      meta_.configuration.empty() ? std::string() : raft::encode(meta_.configuration);
  buffer_ += config_text;
  crc_ = crc32c(config_text.data(), config_text.size(), crc_);
  buffer_ += footer(meta_, config_text.size(), crc_);
  write_all(*ops_, fd_, buffer_, temporary_);
  buffer_.clear();
  if (durable_ && ops_->fdatasync(fd_) != 0) {
    throw StorageError("cannot fdatasync " + temporary_.string() + ": " + std::strerror(errno));
  }
  ::close(fd_);
  fd_ = -1;
  if (std::rename(temporary_.c_str(), final_.c_str()) != 0) {
    throw StorageError("cannot rename " + temporary_.string() + ": " + std::strerror(errno));
  }
  if (durable_) sync_directory(directory_);
  return meta_;
}

}  // namespace conflux::storage
