// libFuzzer target: what a crash or a bad disk can leave in a segment file.
// The input is a segment's contents after the magic. It is checked twice:
// as given, and with every record's CRC recomputed (so that mutations reach
// the payload and replay rules, not only the checksum test).
//
//  - read_record() is run over the bytes as replay runs it. A record that
//    parses re-encodes to exactly its bytes, and the statuses agree with
//    the header.
//  - The bytes become segment 1 of a data directory (segment magic first),
//    alone, or followed by a segment 2 holding a prefix of the magic (a torn
//    header). FileStorage must open it or throw StorageError exactly as the
//    recovery rules say (a model below restates them), recover the entries
//    the model expects, cut a torn tail at the offset it logs, open again
//    without repairing anything, and read back an entry appended afterwards.
//  - The bytes after the hard-state magic become a hard-state file:
//    read_hard_state() throws StorageError or returns a state that writes
//    back to the same bytes.
// No file descriptor may leak. Any violation aborts.
// Build and run: tests/fuzz/README.md.

#include <fcntl.h>
#include <unistd.h>

#include <conflux/storage/file_storage.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crc32c.hpp"
#include "file_util.hpp"
#include "record.hpp"

using namespace conflux::storage;
namespace raft = conflux::raft;
namespace fs = std::filesystem;

namespace {

void require(bool condition, const char* what, std::string_view detail = {}) {
  if (condition) return;
  std::fprintf(stderr, "fuzz check failed: %s\n  %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

std::uint32_t get_u32(std::string_view bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return v;
}

/// A scratch directory on tmpfs when there is one, removed at exit (the
/// handler is registered once the path exists, so it runs before the path's
/// destructor).
const fs::path& scratch() {
  static const fs::path root = [] {
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string pattern = (base / "conflux-segment-fuzz-XXXXXX").string();
    require(::mkdtemp(pattern.data()) != nullptr, "mkdtemp");
    return fs::path(pattern);
  }();
  [[maybe_unused]] static const int cleanup = std::atexit([] {
    std::error_code ec;
    fs::remove_all(root, ec);
  });
  return root;
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  require(static_cast<bool>(out), "cannot write a scratch file", path.string());
}

/// The lowest free descriptor: unchanged across an input unless one leaked.
int lowest_free_fd() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ::close(fd);
  return fd;
}

/// The bytes with each record's CRC recomputed, as far as the lengths chain.
std::string with_fixed_checksums(std::string bytes) {
  for (std::size_t at = 0; bytes.size() - at >= record_header_bytes;) {
    const std::uint32_t length = get_u32(bytes, at);
    if (length > max_record_payload || bytes.size() - at - record_header_bytes < length) break;
    const std::uint32_t crc = crc32c(bytes.data() + at + 8, 1 + std::size_t{length});
    for (std::size_t i = 0; i < 4; ++i) bytes[at + 4 + i] = static_cast<char>(crc >> (8 * i));
    at += record_header_bytes + length;
  }
  return bytes;
}

/// read_record() at one offset, with its checks: statuses agree with the
/// header, and a record that parses re-encodes to exactly its bytes.
ReadStatus read_checked(std::string_view bytes, Record& record) {
  const ReadStatus status = read_record(bytes, record);
  if (bytes.empty()) {
    require(status == ReadStatus::end, "empty input is not end");
    return status;
  }
  require(status != ReadStatus::end, "end on a non-empty input");
  if (bytes.size() < record_header_bytes) {
    require(status == ReadStatus::incomplete, "a short header is not incomplete");
    return status;
  }
  const std::uint32_t length = get_u32(bytes, 0);
  require((status == ReadStatus::bad_length) == (length > max_record_payload),
          "bad_length disagrees with length");
  if (length > max_record_payload) return status;
  const bool fits = bytes.size() - record_header_bytes >= length;
  require((status == ReadStatus::incomplete) == !fits, "incomplete disagrees with length");
  if (!fits) return status;
  const bool crc_ok = crc32c(bytes.data() + 8, 1 + std::size_t{length}) == get_u32(bytes, 4);
  require((status == ReadStatus::bad_checksum) == !crc_ok, "bad_checksum disagrees with the CRC");
  if (status != ReadStatus::ok) return status;
  require(record.size == record_header_bytes + length, "record size is not header plus length");
  const auto encoded = record.type == RecordType::entry ? encode_entry_record(record.entry)
                                                        : encode_truncate_record(record.truncate);
  require(encoded == bytes.substr(0, record.size),
          "a parsed record does not re-encode to its bytes");
  return status;
}

/// Whether a valid record starts at or after `from` (independently of
/// valid_record_after, which is compared with it).
bool any_record_from(std::string_view bytes, std::size_t from) {
  for (std::size_t at = from; at < bytes.size(); ++at) {
    Record record;
    if (read_checked(bytes.substr(at), record) == ReadStatus::ok) return true;
  }
  return false;
}

/// What recovery must make of segment 1 (offsets within `body`).
struct Expected {
  bool corrupt = false;
  std::size_t corrupt_at = 0;         // for corrupt
  std::optional<std::size_t> cut_at;  // a torn tail cut here (last segment only)
  std::vector<raft::Entry> entries;
};

Expected model(std::string_view body, bool last) {
  Expected expected;
  for (std::size_t at = 0;;) {
    Record record;
    const ReadStatus status = read_checked(body.substr(at), record);
    if (status == ReadStatus::end) return expected;
    if (status != ReadStatus::ok) {
      const bool later = any_record_from(body, at + 1);
      std::string file(segment_magic);
      file.append(body);
      require(later == valid_record_after(file, segment_magic.size() + at + 1),
              "valid_record_after disagrees");
      // A record whose checksum holds was written whole: cutting it could
      // drop acknowledged entries, so an unknown type is corruption too.
      if (!last || later || status == ReadStatus::bad_payload) {
        expected.corrupt = true;
        expected.corrupt_at = at;
      } else {
        expected.cut_at = at;
      }
      return expected;
    }
    auto& entries = expected.entries;
    const bool in_order = record.type == RecordType::truncate
                              ? record.truncate != 0 && record.truncate <= entries.size() + 1
                              : record.entry.index == entries.size() + 1;
    if (!in_order) {
      expected.corrupt = true;
      expected.corrupt_at = at;
      return expected;
    }
    if (record.type == RecordType::truncate) {
      entries.resize(record.truncate - 1);
    } else {
      entries.push_back(record.entry);
    }
    at += record.size;
  }
}

struct Opened {
  std::vector<raft::Entry> entries;
  std::vector<std::string> log;
};

FileStorageOptions options_for(const fs::path& directory, std::vector<std::string>& log) {
  FileStorageOptions options;
  options.directory = directory;
  options.log = [&log](const std::string& line) { log.push_back(line); };
  return options;
}

/// Opens the directory; on success checks entries() against last_index()
/// and returns them with the log; on StorageError returns its message.
std::optional<Opened> open(const fs::path& directory, std::string& error) {
  Opened opened;
  try {
    FileStorage storage(options_for(directory, opened.log));
    opened.entries = storage.entries();
    require(storage.last_index() == opened.entries.size(), "last_index() disagrees with entries()");
    require(storage.hard_state() == raft::HardState{}, "a hard state appeared from nowhere");
  } catch (const StorageError& e) {
    error = e.what();
    return std::nullopt;
  }
  return opened;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// Recovery of segment 1 = magic + body, and optionally a torn segment 2.
void check_storage(std::string_view body, std::optional<std::size_t> torn_header) {
  const fs::path directory = scratch() / "data";
  std::error_code ec;
  fs::remove_all(directory, ec);
  fs::create_directories(directory);
  std::string file(segment_magic);
  file.append(body);
  const fs::path segment = segment_path(directory, 1);
  write_file(segment, file);
  if (torn_header) write_file(segment_path(directory, 2), segment_magic.substr(0, *torn_header));
  const bool torn = torn_header && *torn_header < segment_magic.size();

  const Expected expected = model(body, !torn_header);
  std::string error;
  const auto first = open(directory, error);
  if (expected.corrupt) {
    require(!first, "corruption was accepted", body);
    const auto offset = "at offset " + std::to_string(segment_magic.size() + expected.corrupt_at);
    require(contains(error, segment.string()) && contains(error, offset),
            "the error names another place", error);
    return;
  }
  require(first.has_value(), "a recoverable directory was refused", error);
  require(first->entries == expected.entries, "recovered entries differ from the model");
  std::size_t logged = 0;
  if (expected.cut_at) {
    const auto offset = "at offset " + std::to_string(segment_magic.size() + *expected.cut_at);
    require(logged < first->log.size() && contains(first->log[logged], segment.string()) &&
                contains(first->log[logged], offset),
            "the torn tail was not logged with file and offset");
    ++logged;
    require(fs::file_size(segment) == segment_magic.size() + *expected.cut_at,
            "the torn tail was not cut");
  }
  if (torn) {
    require(logged < first->log.size() && contains(first->log[logged], "torn segment header"),
            "the torn header was not logged");
    ++logged;
  }
  require(logged == first->log.size(), "recovery logged something unexpected",
          first->log.empty() ? std::string_view() : std::string_view(first->log.back()));

  // Recovery leaves nothing to repair, and the log takes new entries.
  const auto second = open(directory, error);
  require(second && second->entries == expected.entries && second->log.empty(),
          "a second open differs", error);
  const raft::Entry added{7, expected.entries.size() + 1, raft::EntryType::normal,
                          raft::Payload("appended")};
  {
    std::vector<std::string> log;
    FileStorage storage(options_for(directory, log));
    storage.append({&added, 1});
    storage.sync();
  }
  auto after = expected.entries;
  after.push_back(added);
  const auto third = open(directory, error);
  require(third && third->entries == after && third->log.empty(),
          "an appended entry was not read back", error);
}

/// The bytes after the hard-state magic as a hard-state file, as given and
/// with the trailing CRC made to match.
void check_hard_state(std::string_view body, bool fix_checksum) {
  const fs::path directory = scratch() / "hs";
  fs::create_directories(directory);
  std::string file("CFLXHS01");
  file.append(body);
  if (fix_checksum) {
    if (file.size() < 12) return;
    const std::uint32_t crc = crc32c(file.data(), file.size() - 4);
    for (std::size_t i = 0; i < 4; ++i)
      file[file.size() - 4 + i] = static_cast<char>(crc >> (8 * i));
  }
  write_file(directory / "hardstate", file);
  raft::HardState state;
  try {
    state = read_hard_state(directory / "hardstate");
  } catch (const StorageError&) {
    return;
  }
  FileOps ops;
  replace_hard_state(ops, directory, state, false);
  require(read_file(directory / "hardstate") == file,
          "a hard state does not write back to its bytes");
}

void check_all(std::string_view body) {
  for (std::size_t at = 0;;) {  // as replay reads, resuming after a bad record
    Record record;
    const ReadStatus status = read_checked(body.substr(at), record);
    if (status == ReadStatus::end) break;
    at += status == ReadStatus::ok ? record.size : 1;
  }
  check_storage(body, std::nullopt);
  check_storage(body, body.size() % (segment_magic.size() + 1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  const int free_fd = lowest_free_fd();
  check_all(body);
  const std::string fixed = with_fixed_checksums(body);
  if (fixed != body) check_all(fixed);
  check_hard_state(body, false);
  check_hard_state(body, true);
  require(lowest_free_fd() == free_fd, "a file descriptor leaked");
  return 0;
}
