// FileStorage's recovery at open: the snapshot to start from, the log
// replayed from the segments, and the checks that refuse to start with
// less committed data than was acknowledged (docs/storage.md).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <conflux/storage/file_storage.hpp>
#include <cstring>

#include "file_util.hpp"
#include "record.hpp"
#include "replayed_log.hpp"
#include "snapshot_file.hpp"

namespace conflux::storage {

namespace fs = std::filesystem;

namespace {

struct Candidates {
  std::vector<SnapshotFile> valid;  // newest first
  std::vector<fs::path> corrupt;    // newer than the newest valid one
  raft::Index lost_beyond = 0;      // the largest index among those
  std::string why;                  // what is wrong with the newest of them
};

Candidates find_snapshots(const fs::path& directory) {
  Candidates found;
  for (const auto& [index, path] : list_snapshot_files(directory)) {
    try {
      found.valid.push_back(verify_snapshot_file(path));
    } catch (const StorageError& error) {
      if (!found.valid.empty()) continue;  // older than a usable one: not needed
      if (found.corrupt.empty()) found.why = error.what();
      found.corrupt.push_back(path);
      found.lost_beyond = std::max<raft::Index>(found.lost_beyond, index);
    }
  }
  return found;
}

}  // namespace

void FileStorage::recover() {
  hard_state_ = read_hard_state(options_.directory / "hardstate");
  written_hard_state_ = hard_state_;
  remove_leftovers();
  auto found = find_snapshots(options_.directory);
  ReplayedLog replayed;
  std::optional<TornTail> torn;  // only the last segment may have one
  const auto segments = list_segments(options_.directory);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    torn = replay(segments[i].path, segments[i].number, i + 1 == segments.size(), replayed);
  }
  const auto refuse = [&](const std::string& why) {
    return StorageError(why + (torn ? "; and " + torn->what + " (left as it is)" : ""));
  };
  const Held chosen =
      found.valid.empty() ? Held{} : Held{found.valid[0].meta, found.valid[0].path, -1};
  auto continuation = Continuation::continues;
  try {
    continuation = start_after(chosen, found.lost_beyond, replayed);
  } catch (const StorageError& error) {
    throw refuse(found.corrupt.empty() ? error.what() : found.why + "; " + error.what());
  }
  if (!found.corrupt.empty()) {
    log(found.why + "; starting from " +
        (chosen.meta.index ? "the snapshot at " + std::to_string(chosen.meta.index) : "the log") +
        ", which the log continues past " + std::to_string(found.lost_beyond));
  }
  if (hard_state_.commit > last_index_) {
    throw refuse("hard state commit " + std::to_string(hard_state_.commit) +
                 " is beyond the last entry " + std::to_string(last_index_) + " in " +
                 options_.directory.string());
  }
  // Everything checked: only now is anything on disk changed.
  if (torn) cut(*torn);
  open_active(segments.empty() ? 1 : segments.back().number);
  // A crash between an install's rename and its base record: the log does
  // not continue the snapshot (it ends before it, or holds another entry
  // there). The base record the install would have written is written now,
  // so that the entries appended after the snapshot replay after it.
  if (continuation != Continuation::continues) {
    if (continuation == Continuation::stale_tail) {
      log("the log after the snapshot at " + std::to_string(chosen.meta.index) +
          " does not extend it: discarding it, as installing the snapshot does");
    }
    write_records(encode_base_record(chosen.meta.index, chosen.meta.term, false));
    sync();
  }
  for (const auto& path : found.corrupt) fs::rename(path, path.string() + ".corrupt");
  for (std::size_t i = found.valid.size(); i-- > 0;) {
    hold(Held{found.valid[i].meta, found.valid[i].path, -1});  // the newest last
  }
}

// Temporary files of snapshots never finished: a crash mid-write.
void FileStorage::remove_leftovers() {
  for (const auto& item : fs::directory_iterator(options_.directory)) {
    const auto name = item.path().filename().string();
    if (name == "incoming.tmp" || (name.starts_with("snapshot-") && name.ends_with(".tmp"))) {
      log("removing " + item.path().string() + ", a snapshot never finished");
      fs::remove(item.path());
    }
  }
}

// Replays one segment. A bad record followed by a valid one is corruption
// (refuse to start); a bad record at the end of the last segment is a torn
// write, returned to be cut off. So is a last segment whose header is cut
// short, or is no longer than the header and all zeros (the header's bytes
// never reached the disk; a new segment's header is synced before use).
std::optional<FileStorage::TornTail> FileStorage::replay(const fs::path& path,
                                                         std::uint64_t sequence, bool last,
                                                         ReplayedLog& replayed) {
  const std::string bytes = read_file(path);
  if (bytes.compare(0, segment_magic.size(), segment_magic) != 0) {
    const bool short_header =
        bytes.size() < segment_magic.size() && segment_magic.starts_with(bytes);
    const bool zero_header =
        bytes.size() <= segment_magic.size() && bytes.find_first_not_of('\0') == std::string::npos;
    if (last && (short_header || zero_header)) {
      return TornTail{path, 0, true, "a torn segment header in " + path.string()};
    }
    throw StorageError("corrupt segment " + path.string() + " at offset 0: bad magic");
  }
  std::size_t at = segment_magic.size();
  for (;;) {
    Record record;
    const auto status = read_record(std::string_view(bytes).substr(at), record);
    if (status == ReadStatus::end) return std::nullopt;
    if (status != ReadStatus::ok) {
      // A record whose checksum holds (bad_payload: an unknown type) was
      // written whole, so it cannot be a torn write: cutting it could drop
      // acknowledged entries.
      if (!last || status == ReadStatus::bad_payload || valid_record_after(bytes, at + 1)) {
        throw StorageError("corrupt record in " + path.string() + " at offset " +
                           std::to_string(at));
      }
      return TornTail{path, at, false,
                      "a torn write in " + path.string() + " at offset " + std::to_string(at) +
                          " (" + std::to_string(bytes.size() - at) + " bytes)"};
    }
    if (auto problem = replayed.apply(record); !problem.empty()) {
      throw StorageError("corrupt record in " + path.string() + " at offset " + std::to_string(at) +
                         ": " + problem);
    }
    if (record.type == RecordType::entry) segment_first_.try_emplace(sequence, record.entry.index);
    at += record.size;
  }
}

void FileStorage::cut(const TornTail& torn) {
  if (torn.header) {
    log(torn.what + ": rewriting it");
    rewrite_header(torn.path);
    return;
  }
  log(torn.what + ": cutting it off");
  truncate_file(torn.path, torn.keep);
}

// The log after `snapshot`: it must start at or before the snapshot's end
// (or nothing in between would be known), and must reach `lost_beyond`,
// the end of a newer snapshot that is unusable. Entries after the snapshot
// stay only if the log matches it there (Raft §7), as at install time.
FileStorage::Continuation FileStorage::start_after(const Held& snapshot, raft::Index lost_beyond,
                                                   ReplayedLog& replayed) {
  const auto index = snapshot.meta.index;
  const auto from = index ? "the snapshot at " + std::to_string(index) : std::string("no snapshot");
  if (lost_beyond > 0 && replayed.last() < lost_beyond) {
    throw StorageError("cannot start from " + options_.directory.string() +
                       ": a newer snapshot, at " + std::to_string(lost_beyond) +
                       ", is unusable, and " + from + " and the log (which ends at " +
                       std::to_string(replayed.last()) +
                       ") do not reach it: committed entries would be lost");
  }
  if (replayed.started() && replayed.base() > index) {
    throw StorageError("cannot start from " + options_.directory.string() + ": the log starts at " +
                       std::to_string(replayed.base() + 1) + ", after " + from +
                       ": the entries in between are missing");
  }
  bool keep = true;
  if (index > replayed.base() && index <= replayed.last()) {
    keep = replayed.term_at(index) == snapshot.meta.term;
  }
  auto continuation = Continuation::continues;
  if (index > 0 && (!keep || replayed.last() < index)) {
    continuation = replayed.last() > index ? Continuation::stale_tail : Continuation::nothing_after;
  }
  if (index > 0) replayed.rebase(index, keep);
  entries_ = replayed.take_entries();
  last_index_ = entries_.empty() ? index : entries_.back().index;
  terms_base_ = index;
  for (const auto& entry : entries_) terms_.push_back(entry.term);
  return continuation;
}

}  // namespace conflux::storage
