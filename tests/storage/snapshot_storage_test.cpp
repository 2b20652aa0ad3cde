// Specification of FileStorage's snapshots (docs/storage.md): a snapshot
// taken or installed survives reopening with only the log after it; the
// segments it makes redundant go; a damaged newest snapshot falls back to
// the previous one only when the log covers the gap; and every crash point
// of a write or an install leaves a directory that opens.
#include <doctest/doctest.h>

#include "record.hpp"
#include "replayed_log.hpp"
#include "snapshot_file.hpp"
#include "storage/storage_test_util.hpp"

using namespace conflux;
using namespace conflux::storage;
using namespace conflux::storage::test;

namespace {

/// The bytes of a snapshot at `index`: they follow from it, so any mix-up shows.
std::string snapshot_bytes(raft::Index index) {
  std::string bytes;
  for (raft::Index i = 1; i <= index; ++i) bytes += "state-" + std::to_string(i) + ";";
  return bytes;
}

/// The configuration every snapshot here records (thesis §5.1).
raft::Configuration members() {
  return raft::Configuration{.voters = {"a", "b"}, .outgoing = {}, .learners = {"c"},
                             .addresses = {{"a", "127.0.0.1:1"}, {"c", "127.0.0.1:3"}}};
}

/// Takes a snapshot at `index` as a node does (written, finished, adopted).
raft::SnapshotMeta take_snapshot(FileStorage& storage, raft::Index index, raft::Term term) {
  auto writer = storage.begin_snapshot(raft::SnapshotMeta{index, term, 0, members()});
  const auto bytes = snapshot_bytes(index);
  writer->write(std::string_view(bytes).substr(0, bytes.size() / 2));
  writer->write(std::string_view(bytes).substr(bytes.size() / 2));
  const auto meta = writer->finish();
  REQUIRE(storage.adopt_snapshot(*writer));
  return meta;
}

/// The whole snapshot `meta` as the storage reads it back, 7 bytes at a time.
std::string read_back(const FileStorage& storage, const raft::SnapshotMeta& meta) {
  std::string bytes;
  while (bytes.size() < meta.size) {
    const auto piece = storage.read_snapshot(meta, bytes.size(), 7);
    REQUIRE(piece);
    bytes += piece->view();
  }
  return bytes;
}

/// Sends snapshot (index, term) into `storage` as chunks of `chunk` bytes.
raft::SnapshotMeta receive(FileStorage& storage, raft::Index index, raft::Term term,
                           std::size_t chunk = 5) {
  const auto bytes = snapshot_bytes(index);
  const raft::SnapshotMeta meta{index, term, bytes.size(), members()};
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    const auto piece = bytes.substr(at, chunk);
    storage.write_chunk(
        raft::SnapshotChunk{meta, at, raft::Payload(piece), at + piece.size() == bytes.size()});
  }
  return meta;
}

std::vector<raft::Index> indices(const std::vector<raft::Entry>& entries) {
  std::vector<raft::Index> out;
  for (const auto& entry : entries) out.push_back(entry.index);
  return out;
}

std::vector<raft::Index> range(raft::Index first, raft::Index last) {
  std::vector<raft::Index> out;
  for (auto i = first; i <= last; ++i) out.push_back(i);
  return out;
}

std::string open_error(const fs::path& directory) {
  try {
    FileStorage storage(options_for(directory));
  } catch (const StorageError& error) {
    return error.what();
  }
  return {};
}

}  // namespace

TEST_CASE("a snapshot taken survives reopening, with only the log after it") {
  TempDir dir;
  raft::SnapshotMeta meta;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 30, 2));
    storage.sync();
    meta = take_snapshot(storage, 20, 2);
    CHECK(storage.snapshot() == meta);
    CHECK(read_back(storage, meta) == snapshot_bytes(20));
  }
  FileStorage storage(options_for(dir.path()));
  CHECK(storage.snapshot() == meta);
  CHECK(storage.snapshot().configuration == members());  // kept in the file (thesis §5.1)
  CHECK(indices(storage.entries()) == range(21, 30));
  CHECK(read_back(storage, meta) == snapshot_bytes(20));
  CHECK(storage.last_index() == 30);
}

TEST_CASE("the segments two snapshots cover are deleted, the rest stay") {
  TempDir dir;
  FileStorage storage(options_for(dir.path(), {}, 256));
  for (raft::Index i = 1; i <= 60; ++i) storage.append(make_entries(i, i, 1));
  storage.sync();
  const auto before = segment_files(dir.path()).size();
  REQUIRE(before > 4);
  take_snapshot(storage, 30, 1);
  CHECK(segment_files(dir.path()).size() == before);  // the only snapshot: fallback needs the log
  take_snapshot(storage, 50, 1);
  CHECK(segment_files(dir.path()).size() < before);
  CHECK(fs::exists(snapshot_path(dir.path(), 30)));
  CHECK(fs::exists(snapshot_path(dir.path(), 50)));
  take_snapshot(storage, 55, 1);
  CHECK_FALSE(fs::exists(snapshot_path(dir.path(), 30)));  // two are kept
}

TEST_CASE("reopening after segments were deleted keeps every entry after the snapshot") {
  TempDir dir;
  {
    FileStorage storage(options_for(dir.path(), {}, 256));
    for (raft::Index i = 1; i <= 60; ++i) storage.append(make_entries(i, i, 1));
    storage.sync();
    take_snapshot(storage, 30, 1);
    take_snapshot(storage, 50, 1);
  }
  FileStorage storage(options_for(dir.path(), {}, 256));
  CHECK(storage.snapshot().index == 50);
  CHECK(indices(storage.entries()) == range(51, 60));
  storage.append(make_entries(61, 61, 1));  // and the log goes on
  CHECK(storage.last_index() == 61);
}

TEST_CASE("a damaged newest snapshot falls back to the previous one when the log covers it") {
  TempDir dir;
  LogLines log;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 40, 3));
    storage.sync();
    take_snapshot(storage, 10, 3);
    take_snapshot(storage, 30, 3);
  }
  const auto newest = snapshot_path(dir.path(), 30);
  SUBCASE("a flipped byte") {
    flip_byte(newest, 20);
  }
  SUBCASE("truncated") {
    fs::resize_file(newest, fs::file_size(newest) - 5);
  }
  FileStorage storage(options_for(dir.path(), log));
  CHECK(storage.snapshot().index == 10);
  CHECK(indices(storage.entries()) == range(11, 40));
  CHECK(log.any_contains(newest.string()));
  CHECK(fs::exists(newest.string() + ".corrupt"));
}

TEST_CASE("a damaged newest snapshot the log does not cover refuses to start, naming the file") {
  TempDir dir;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 40, 3));
    storage.sync();
    take_snapshot(storage, 30, 3);
  }
  // The log no longer reaches the snapshot's end: as if its segments were gone.
  for (const auto& segment : segment_files(dir.path())) fs::remove(segment);
  const auto newest = snapshot_path(dir.path(), 30);
  flip_byte(newest, 12);
  const auto error = open_error(dir.path());
  CHECK(error.find(newest.string()) != std::string::npos);
  CHECK(error.find("bad checksum") != std::string::npos);
  CHECK(error.find("committed entries would be lost") != std::string::npos);
  CHECK(fs::exists(newest));  // left as it was, for an operator to look at
}

TEST_CASE("a snapshot file with the wrong identity, magic or size is named as unusable") {
  TempDir dir;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 12, 1));
    storage.sync();
    take_snapshot(storage, 12, 1);
  }
  const auto file = snapshot_path(dir.path(), 12);
  SUBCASE("renamed to another index") {
    fs::rename(file, snapshot_path(dir.path(), 13));
    CHECK_THROWS_WITH_AS(verify_snapshot_file(snapshot_path(dir.path(), 13)),
                         doctest::Contains("its footer names index 12"), StorageError);
  }
  SUBCASE("bad magic") {
    flip_byte(file, 0);
    CHECK_THROWS_WITH_AS(verify_snapshot_file(file), doctest::Contains("bad magic"), StorageError);
  }
  SUBCASE("shorter than a footer") {
    fs::resize_file(file, 20);
    CHECK_THROWS_WITH_AS(verify_snapshot_file(file), doctest::Contains("truncated"), StorageError);
  }
}

TEST_CASE("a snapshot write that never finished leaves nothing behind") {
  TempDir dir;
  LogLines log;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 12, 1));
    storage.sync();
    auto writer = storage.begin_snapshot(raft::SnapshotMeta{12, 1, 0, members()});
    writer->write("half a state");
    // a crash: the temporary file is left as it was
    const auto temporary = fs::path(snapshot_path(dir.path(), 12)).replace_extension(".tmp");
    REQUIRE(fs::exists(temporary));
    fs::copy_file(temporary, dir.path() / "kept.tmp");
  }
  fs::rename(dir.path() / "kept.tmp",
             fs::path(snapshot_path(dir.path(), 12)).replace_extension(".tmp"));
  FileStorage storage(options_for(dir.path(), log));
  CHECK(storage.snapshot().index == 0);
  CHECK(indices(storage.entries()) == range(1, 12));
  CHECK(log.any_contains("never finished"));
  CHECK(list_snapshot_files(dir.path()).empty());
}

TEST_CASE("an installed snapshot keeps the log after it when the log matches there") {
  TempDir dir;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 15, 2));
    storage.sync();
    const auto meta = receive(storage, 10, 2);
    CHECK(storage.snapshot() == meta);
    CHECK(storage.last_index() == 15);
  }
  FileStorage storage(options_for(dir.path()));
  CHECK(storage.snapshot().index == 10);
  CHECK(indices(storage.entries()) == range(11, 15));
}

TEST_CASE("an installed snapshot discards the log when it does not match there") {
  TempDir dir;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 15, 1));
    storage.sync();
    receive(storage, 10, 2);  // entry 10 has term 1: another history
    CHECK(storage.last_index() == 10);
    storage.append(make_entries(11, 12, 2));  // the log goes on after the snapshot
    storage.sync();
  }
  FileStorage storage(options_for(dir.path()));
  CHECK(storage.snapshot() == raft::SnapshotMeta{10, 2, snapshot_bytes(10).size(), members()});
  const auto entries = storage.entries();
  CHECK(indices(entries) == range(11, 12));
  CHECK(entries.front().term == 2);
}

TEST_CASE("an install into a log that ends before the snapshot continues after it") {
  TempDir dir;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 3, 1));
    storage.sync();
    receive(storage, 20, 2);
    storage.append(make_entries(21, 22, 2));
    storage.sync();
  }
  FileStorage storage(options_for(dir.path()));
  CHECK(storage.snapshot().index == 20);
  CHECK(indices(storage.entries()) == range(21, 22));
}

TEST_CASE("a crash after an install's rename but before its base record is repaired") {
  TempDir dir;
  LogLines log;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 15, 1));
    storage.sync();
    // The snapshot file of an install at (10, term 2), renamed into place,
    // and nothing else: the log still holds 11..15 of another history.
    SnapshotFileWriter writer(dir.path(), dir.path() / "incoming.tmp",
                              raft::SnapshotMeta{10, 2, 0, members()},
                              std::make_shared<FileOps>(), true);
    writer.write(snapshot_bytes(10));
    writer.finish();
  }
  {
    FileStorage storage(options_for(dir.path(), log));
    CHECK(storage.snapshot().index == 10);
    CHECK(storage.entries().empty());
    CHECK(log.any_contains("does not extend it"));
    storage.append(make_entries(11, 11, 2));
    storage.sync();
  }
  FileStorage storage(options_for(dir.path()));
  const auto entries = storage.entries();
  REQUIRE(indices(entries) == range(11, 11));
  CHECK(entries.front().term == 2);
}

TEST_CASE("a crash mid-install leaves the old state and no partial snapshot") {
  TempDir dir;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 5, 1));
    storage.sync();
    const auto bytes = snapshot_bytes(20);
    storage.write_chunk(
        {raft::SnapshotMeta{20, 2, bytes.size()}, 0, raft::Payload(bytes.substr(0, 10)), false});
    REQUIRE(fs::exists(dir.path() / "incoming.tmp"));
    fs::copy_file(dir.path() / "incoming.tmp", dir.path() / "partial");
  }
  fs::rename(dir.path() / "partial", dir.path() / "incoming.tmp");
  FileStorage storage(options_for(dir.path()));
  CHECK(storage.snapshot().index == 0);
  CHECK(indices(storage.entries()) == range(1, 5));
  CHECK_FALSE(fs::exists(dir.path() / "incoming.tmp"));
}

TEST_CASE("a chunk that does not follow the bytes received fails the storage, naming it") {
  TempDir dir;
  FileStorage storage(options_for(dir.path()));
  const raft::SnapshotMeta meta{20, 2, 30};
  storage.write_chunk({meta, 0, raft::Payload("0123456789"), false});
  CHECK_THROWS_WITH_AS(storage.write_chunk({meta, 20, raft::Payload("0123456789"), true}),
                       doctest::Contains("offset 20 of the snapshot at 20"), StorageError);
  CHECK(storage.failed());
}

TEST_CASE("a missing base record is written at recovery, whatever the log held at the snapshot") {
  // A crash between an install's rename and its base record, with a log
  // that ends before the snapshot, or holds another entry at its index.
  for (const raft::Index last : {4, 10}) {
    CAPTURE(last);
    TempDir dir;
    {
      FileStorage storage(options_for(dir.path()));
      storage.append(make_entries(1, last, 1));
      storage.sync();
      SnapshotFileWriter writer(dir.path(), dir.path() / "incoming.tmp",
                              raft::SnapshotMeta{10, 2, 0, members()},
                                std::make_shared<FileOps>(), true);
      writer.write(snapshot_bytes(10));
      writer.finish();
    }
    {
      FileStorage storage(options_for(dir.path()));
      CHECK(storage.snapshot().index == 10);
      CHECK(storage.entries().empty());
      storage.append(make_entries(11, 13, 2));  // acknowledged after the restart
      storage.sync();
    }
    FileStorage storage(options_for(dir.path()));
    const auto entries = storage.entries();
    REQUIRE(indices(entries) == range(11, 13));
    CHECK(entries.front().term == 2);
  }
}

TEST_CASE("a base record that kept entries, first in what is left of the log, is skipped") {
  // Its segment's predecessors, which held the entries it kept, were deleted.
  ReplayedLog replayed;
  Record base;
  base.type = RecordType::base;
  base.base_index = 20;
  base.base_term = 2;
  base.base_keep = true;
  CHECK(replayed.apply(base).empty());
  Record entry;
  entry.type = RecordType::entry;
  entry.entry = make_entry(31, 2);
  CHECK(replayed.apply(entry).empty());
  CHECK(replayed.base() == 30);
  CHECK(replayed.last() == 31);
}
