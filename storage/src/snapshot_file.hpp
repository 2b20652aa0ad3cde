#pragma once
// Snapshot files (docs/storage.md): "snapshot-<index, 20 digits>.snap",
//
//   8 bytes  "CFLXSNP2"
//   size     the snapshot's bytes
//   n bytes  its configuration (raft::encode, membership.hpp; thesis §5.1)
//   u64 index, u64 term, u64 size   the snapshot's identity
//   u32      n, the configuration's length
//   u32      CRC-32C of the snapshot's bytes and the configuration
//   u32      CRC-32C of the 32 footer bytes before it
//
// written to a temporary name, synced, renamed, and the directory synced:
// a file with the final name is always whole.

#include <conflux/storage/file_storage.hpp>
#include <conflux/storage/node_storage.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "file_util.hpp"

namespace conflux::storage {

inline constexpr std::string_view snapshot_magic = "CFLXSNP2";
inline constexpr std::size_t snapshot_footer_bytes = 36;

struct SnapshotFile {
  raft::SnapshotMeta meta;
  std::filesystem::path path;
};

std::filesystem::path snapshot_path(const std::filesystem::path& directory, raft::Index index);
/// Files named like snapshots, by index, newest (largest index) first; their
/// contents are not read.
std::vector<NumberedFile> list_snapshot_files(const std::filesystem::path& directory);
/// Reads and checks a whole snapshot file. Throws StorageError naming the
/// file and what is wrong with it (truncated, bad magic, bad checksum, an
/// identity that does not match its name).
SnapshotFile verify_snapshot_file(const std::filesystem::path& path);
/// Up to `max` bytes of the snapshot in `fd` from `offset`.
std::string read_snapshot_bytes(int fd, const std::filesystem::path& path, std::uint64_t offset,
                                std::size_t max);

/// Writes a snapshot file under a temporary name; finish() syncs it, gives
/// it its final name and syncs the directory.
class SnapshotFileWriter final : public SnapshotWriter {
 public:
  /// `identity`: the snapshot's index, term and configuration (its size
  /// is counted as bytes are written).
  SnapshotFileWriter(std::filesystem::path directory, std::filesystem::path temporary,
                     raft::SnapshotMeta identity, std::shared_ptr<FileOps> ops, bool durable);
  ~SnapshotFileWriter() override;
  void write(std::string_view bytes) override;
  raft::SnapshotMeta finish() override;
  const std::filesystem::path& path() const { return final_; }
  /// The snapshot's identity, its size so far (all of it once finished).
  const raft::SnapshotMeta& meta() const { return meta_; }

 private:
  std::filesystem::path directory_;
  std::filesystem::path temporary_;
  std::filesystem::path final_;
  raft::SnapshotMeta meta_;
  std::shared_ptr<FileOps> ops_;
  bool durable_;
  int fd_ = -1;
  std::uint32_t crc_ = 0;
  std::string buffer_;  // writes are gathered into ~1 MiB system calls
};

}  // namespace conflux::storage
