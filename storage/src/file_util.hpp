#pragma once
// File-level helpers of FileStorage: naming, whole-file reads, atomic
// replacement of the hard state, directory syncs. Errors throw StorageError
// naming the file.

#include <conflux/storage/file_storage.hpp>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::storage {

/// A file whose name carries a number: a segment's sequence, a snapshot's index.
struct NumberedFile {
  std::uint64_t number = 0;
  std::filesystem::path path;
};

/// The files of `directory` named exactly `path_of(directory, n)` for some
/// n, which `scan` (a sscanf format: the number, then the extension) reads
/// back; in ascending order of n. Anything else (a "segment-1.log", a
/// backup "...log~") is not one of them.
std::vector<NumberedFile> numbered_files(
    const std::filesystem::path& directory, const char* scan,
    std::filesystem::path (*path_of)(const std::filesystem::path&, std::uint64_t));

std::filesystem::path segment_path(const std::filesystem::path& directory, std::uint64_t sequence);
/// Segment files of `directory`, in sequence order.
inline std::vector<NumberedFile> list_segments(const std::filesystem::path& directory) {
  return numbered_files(directory, "segment-%10llu.%3s", segment_path);
}

std::string read_file(const std::filesystem::path& path);
void truncate_file(const std::filesystem::path& path, std::size_t size);
/// Rewrites a segment whose header was torn: an empty segment again.
void rewrite_header(const std::filesystem::path& path);
/// True if a valid record starts anywhere at or after `from`.
bool valid_record_after(std::string_view bytes, std::size_t from);

/// Writes all of `data`, retrying short writes and EINTR.
void write_all(FileOps& ops, int fd, std::string_view data, const std::filesystem::path& path);
void sync_directory(const std::filesystem::path& directory);

/// The hard-state file: magic, term, commit, vote, CRC-32C. Missing: the
/// initial state. Present but invalid: StorageError (it is only ever
/// replaced whole, so damage is corruption).
raft::HardState read_hard_state(const std::filesystem::path& path);
/// Writes hardstate.tmp, syncs it, renames it over hardstate, syncs the
/// directory (the syncs only when `durable`).
void replace_hard_state(FileOps& ops, const std::filesystem::path& directory,
                        const raft::HardState& state, bool durable);

}  // namespace conflux::storage
