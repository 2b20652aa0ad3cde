// Specification of FileStorage (conflux/storage/file_storage.hpp): what is
// written and synced is read back after reopening, a torn tail is cut, and
// corruption, a second opener and failed system calls are refused loudly.
// The crash test with real processes is in crash_test.cpp; the record format
// in record_test.cpp.
#include <doctest/doctest.h>

#include <fstream>

#include "file_util.hpp"
#include "record.hpp"
#include "storage/storage_test_util.hpp"

using namespace conflux;
using namespace conflux::storage;
using namespace conflux::storage::test;

namespace {

/// What opening `options` throws; empty if it opens.
std::string open_error(FileStorageOptions options) {
  try {
    FileStorage storage(std::move(options));
  } catch (const StorageError& error) {
    return error.what();
  }
  return {};
}

/// Byte offset of each entry's record in a single segment holding `entries`.
std::vector<std::uint64_t> record_offsets(const std::vector<raft::Entry>& entries) {
  std::vector<std::uint64_t> offsets;
  std::uint64_t at = segment_magic.size();
  for (const auto& entry : entries) {
    offsets.push_back(at);
    at += encode_entry_record(entry).size();
  }
  return offsets;
}

/// Appends `entries` one at a time (so segments end near segment_bytes) and syncs.
void write_log(const fs::path& directory, const std::vector<raft::Entry>& entries,
               std::uint64_t segment_bytes) {
  FileStorage storage(options_for(directory, {}, segment_bytes));
  for (const auto& entry : entries) storage.append(std::span(&entry, 1));
  storage.sync();
}

int open_descriptors() {
  int count = 0;
  for ([[maybe_unused]] const auto& item : fs::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

}  // namespace

// ------------------------------------------------------------ round trips

TEST_CASE("a fresh directory is created and opens empty with the initial hard state") {
  TempDir dir;
  const auto directory = dir / "data" / "node-1";

  FileStorage storage(options_for(directory));

  CHECK(fs::is_directory(directory));
  CHECK(storage.entries().empty());
  CHECK(storage.last_index() == 0);
  CHECK(storage.hard_state() == raft::HardState{});
  CHECK_FALSE(storage.failed());
}

TEST_CASE("entries and hard state written and synced are read back after reopening") {
  TempDir dir;
  const auto entries = make_entries(1, 40, 3);
  const raft::HardState state{3, "node-2", 0};
  {
    FileStorage storage(options_for(dir.path()));
    storage.save_hard_state(state);
    storage.append(std::span(entries).first(25));
    storage.append(std::span(entries).subspan(25));
    storage.sync();
    CHECK(storage.last_index() == 40);
  }

  FileStorage reopened(options_for(dir.path()));

  CHECK(reopened.entries() == entries);
  CHECK(reopened.last_index() == 40);
  CHECK(reopened.hard_state() == state);
}

TEST_CASE("a log spread over several segments is read back whole and in order") {
  TempDir dir;
  const auto entries = make_entries(1, 120, 1);
  {
    FileStorage storage(options_for(dir.path(), {}, 512));
    for (std::size_t i = 0; i < entries.size(); i += 7) {
      storage.append(std::span(entries).subspan(i, std::min<std::size_t>(7, entries.size() - i)));
      storage.sync();
    }
  }
  const auto segments = segment_files(dir.path());
  REQUIRE(segments.size() >= 5);
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) CHECK(fs::file_size(segments[i]) >= 512);

  FileStorage reopened(options_for(dir.path(), {}, 512));

  CHECK(reopened.entries() == entries);
}

TEST_CASE(
    "appending over the tail discards the stored suffix, also across segments, and later appends "
    "follow") {
  TempDir dir;
  std::uint64_t segment_bytes = 64 << 20;
  SUBCASE("in one segment") {}
  SUBCASE("across segments") {
    segment_bytes = 300;
  }
  {
    FileStorage storage(options_for(dir.path(), {}, segment_bytes));
    storage.append(make_entries(1, 30, 1));
    storage.append(make_entries(12, 20, 2));  // overwrites 12..30
    storage.append(make_entries(21, 26, 2));
    storage.append(make_entries(25, 25, 3));  // overwrites 25..26
    storage.sync();
    CHECK(storage.last_index() == 25);
  }
  auto expected = make_entries(1, 11, 1);
  for (const auto& entry : make_entries(12, 24, 2)) expected.push_back(entry);
  expected.push_back(make_entry(25, 3));

  {
    FileStorage reopened(options_for(dir.path(), {}, segment_bytes));
    CHECK(reopened.entries() == expected);
    reopened.append(make_entries(1, 3, 4));  // overwrites everything
    reopened.append(make_entries(4, 5, 4));
    reopened.sync();
  }

  FileStorage again(options_for(dir.path(), {}, segment_bytes));
  CHECK(again.entries() == make_entries(1, 5, 4));
}

TEST_CASE(
    "a commit-only hard-state change reaches the disk when the storage closes, after the log is "
    "synced") {
  TempDir dir;
  auto ops = std::make_shared<FlakyOps>();
  int syncs_before_close = 0;
  {
    auto options = options_for(dir.path());
    options.ops = ops;
    FileStorage storage(options);
    storage.append(make_entries(1, 5, 2));
    storage.sync();
    storage.save_hard_state({2, "a", 0});
    storage.save_hard_state({2, "a", 4});

    CHECK(storage.hard_state() == raft::HardState{2, "a", 4});
    CHECK(read_hard_state(dir / "hardstate") == raft::HardState{2, "a", 0});  // deferred
    syncs_before_close = ops->syncs;
  }
  CHECK(ops->syncs == syncs_before_close + 2);  // the log's segment, then the new hard state
  CHECK(read_hard_state(dir / "hardstate") == raft::HardState{2, "a", 4});

  FileStorage reopened(options_for(dir.path()));
  CHECK(reopened.hard_state() == raft::HardState{2, "a", 4});
}

TEST_CASE("a term or vote change is written and synced at once, carrying the latest commit") {
  TempDir dir;
  auto ops = std::make_shared<FlakyOps>();
  auto options = options_for(dir.path());
  options.ops = ops;
  FileStorage storage(options);
  storage.append(make_entries(1, 5, 1));
  storage.sync();

  storage.save_hard_state({1, "", 3});
  const int syncs_before = ops->syncs;
  storage.save_hard_state({2, "", 3});
  CHECK(ops->syncs == syncs_before + 1);
  CHECK(read_hard_state(dir / "hardstate") == raft::HardState{2, "", 3});

  storage.save_hard_state({2, "b", 4});
  CHECK(ops->syncs == syncs_before + 2);
  CHECK(read_hard_state(dir / "hardstate") == raft::HardState{2, "b", 4});
  CHECK_FALSE(fs::exists(dir / "hardstate.tmp"));
}

// A follower's first message from a new leader raises its term, appends
// entries and commits up to them in one Ready; the driver saves the hard
// state before appending. A crash in between must not leave a commit index
// beyond the stored log, which would refuse every later start.
TEST_CASE(
    "a hard state saved before the entries its commit covers never points past the stored log") {
  TempDir dir;
  TempDir crash_image;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 5, 1));
    storage.sync();

    storage.save_hard_state({2, "", 8});  // entries 6..8 are not appended yet
    fs::remove_all(crash_image.path());
    fs::copy(dir.path(), crash_image.path(),
             fs::copy_options::recursive);  // the disk if killed now

    storage.append(make_entries(6, 8, 2));
    storage.sync();
  }

  {
    FileStorage crashed(options_for(crash_image.path()));
    CHECK(crashed.entries() == make_entries(1, 5, 1));
    CHECK(crashed.hard_state().term == 2);
    CHECK(crashed.hard_state().commit <= 5);
  }
  FileStorage closed(options_for(dir.path()));
  CHECK(closed.hard_state() == raft::HardState{2, "", 8});  // the full commit, written at close
}

TEST_CASE("short and interrupted writes are retried until every byte is written") {
  TempDir dir;
  auto ops = std::make_shared<FlakyOps>();
  ops->max_write = 5;
  ops->interrupt_every_other = true;
  auto options = options_for(dir.path(), {}, 400);
  options.ops = ops;
  const auto entries = make_entries(1, 30, 1);
  {
    FileStorage storage(options);
    storage.save_hard_state({1, "a-rather-long-node-id", 0});
    storage.append(entries);
    storage.sync();
  }
  CHECK(ops->writes > 200);

  FileStorage reopened(options_for(dir.path()));
  CHECK(reopened.entries() == entries);
  CHECK(reopened.hard_state() == raft::HardState{1, "a-rather-long-node-id", 0});
}

TEST_CASE("files whose names only resemble segments are ignored") {
  TempDir dir;
  write_log(dir.path(), make_entries(1, 10, 1), 64 << 20);
  const auto segment = segment_files(dir.path()).at(0);
  fs::copy_file(segment, segment.string() + ".bak");
  fs::copy_file(segment, segment.string() + "~");
  fs::copy_file(segment, dir / "segment-1.log");

  FileStorage reopened(options_for(dir.path()));

  CHECK(reopened.entries() == make_entries(1, 10, 1));
}

// ------------------------------------------------------------ torn writes

TEST_CASE(
    "a last record torn at any byte is cut off and logged with its file and offset; the log goes "
    "on") {
  TempDir base;
  auto entries = make_entries(1, 30, 1);
  entries.back() =
      raft::Entry{1, 30, raft::EntryType::normal, raft::Payload(std::string(100, 'z'))};
  write_log(base.path(), entries, 600);
  const auto last_segment = segment_files(base.path()).back();
  const auto size = fs::file_size(last_segment);
  REQUIRE(segment_files(base.path()).size() >= 2);
  REQUIRE(size >= segment_magic.size() +
                      encode_entry_record(entries.back()).size());  // the record is in it
  const auto record_start = size - encode_entry_record(entries.back()).size();
  const std::vector<raft::Entry> previous(entries.begin(), entries.end() - 1);

  TempDir work;
  for (auto cut = record_start; cut < size; ++cut) {
    CAPTURE(cut);
    fs::remove_all(work.path());
    fs::copy(base.path(), work.path(), fs::copy_options::recursive);
    const auto segment = work.path() / last_segment.filename();
    fs::resize_file(segment, cut);
    LogLines log;

    {
      FileStorage storage(options_for(work.path(), log, 600));
      CHECK(storage.entries() == previous);
      CHECK(storage.last_index() == 29);
      if (cut > record_start) {
        CHECK(log.any_contains(segment.string(), "offset " + std::to_string(record_start)));
      } else {
        CHECK(log.lines->empty());  // a clean end: nothing torn
      }
      CHECK(fs::file_size(segment) == record_start);
      storage.append(std::span(entries).last(1));
      storage.sync();
    }
    LogLines after;
    FileStorage reopened(options_for(work.path(), after, 600));
    CHECK(reopened.entries() == entries);
    CHECK(after.lines->empty());
  }
}

TEST_CASE("a torn header of a new last segment is rewritten and the log goes on") {
  TempDir dir;
  const auto entries = make_entries(1, 20, 1);
  {
    FileStorage storage(options_for(dir.path(), {}, 300));
    storage.append(entries);  // fills the first segment and starts an empty one
    storage.sync();
  }
  const auto last_segment = segment_files(dir.path()).back();
  REQUIRE(fs::file_size(last_segment) == segment_magic.size());
  for (std::uint64_t cut : {0u, 3u}) {
    CAPTURE(cut);
    fs::resize_file(last_segment, cut);
    LogLines log;
    {
      FileStorage storage(options_for(dir.path(), log, 300));
      CHECK(storage.entries() == entries);
      CHECK(log.any_contains("torn segment header", last_segment.string()));
    }
    CHECK(fs::file_size(last_segment) == segment_magic.size());
  }
  {  // a header whose bytes never reached the disk: zeros
    std::ofstream(last_segment, std::ios::binary | std::ios::trunc) << std::string(8, '\0');
    LogLines log;
    FileStorage storage(options_for(dir.path(), log, 300));
    CHECK(storage.entries() == entries);
    CHECK(log.any_contains("torn segment header", last_segment.string()));
  }
  {
    FileStorage storage(options_for(dir.path(), {}, 300));
    storage.append(make_entries(21, 22, 1));
    storage.sync();
  }
  FileStorage reopened(options_for(dir.path(), {}, 300));
  CHECK(reopened.entries() == make_entries(1, 22, 1));
}

// ------------------------------------------------------------ corruption

TEST_CASE(
    "a damaged record followed by valid ones refuses to open, naming the file and the record's "
    "offset") {
  TempDir base;
  const auto entries = make_entries(1, 30, 1);
  write_log(base.path(), entries, 64 << 20);
  const auto offsets = record_offsets(entries);
  const auto record = encode_entry_record(entries[14]);
  REQUIRE(record.size() > record_header_bytes + 17);

  // The length's low and high bytes, the checksum, the type, the entry's
  // index, its entry type, and the middle of its payload.
  for (std::size_t within :
       {std::size_t{0}, std::size_t{3}, std::size_t{5}, std::size_t{8}, std::size_t{9},
        record_header_bytes + 16, record.size() / 2 + 5, record.size() - 1}) {
    CAPTURE(within);
    TempDir work;
    fs::copy(base.path(), work.path(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    const auto segment = segment_files(work.path()).at(0);
    flip_byte(segment, offsets[14] + within);

    const auto error = open_error(options_for(work.path()));

    CHECK(error.find(segment.string()) != std::string::npos);
    CHECK(error.find("offset " + std::to_string(offsets[14])) != std::string::npos);
  }
}

TEST_CASE(
    "a refusal to start leaves the files as they were, naming the torn tail it would have cut") {
  TempDir dir;
  {
    FileStorage storage(options_for(dir.path()));
    storage.append(make_entries(1, 5, 1));
    storage.sync();
    storage.save_hard_state({1, "", 5});  // written at close: commit 5
  }
  // The last record decays: alone it would pass for a torn write, but the
  // commit says entry 5 was acknowledged.
  const auto segment = segment_files(dir.path()).at(0);
  const auto size = fs::file_size(segment);
  flip_byte(segment, size - 1);

  const auto error = open_error(options_for(dir.path()));

  CHECK(error.find("hard state commit 5 is beyond the last entry 4") != std::string::npos);
  CHECK(error.find("a torn write in " + segment.string()) != std::string::npos);
  CHECK(fs::file_size(segment) == size);
}

TEST_CASE("damage to the last record of an earlier segment is corruption, not a torn write") {
  TempDir dir;
  write_log(dir.path(), make_entries(1, 40, 1), 400);
  const auto segments = segment_files(dir.path());
  REQUIRE(segments.size() >= 3);
  flip_byte(segments[0], fs::file_size(segments[0]) - 1);

  const auto error = open_error(options_for(dir.path()));

  CHECK(error.find(segments[0].string()) != std::string::npos);
  CHECK(error.find("offset ") != std::string::npos);
}

TEST_CASE("a corrupt or cut hard-state file refuses to open, naming the file") {
  TempDir dir;
  {
    FileStorage storage(options_for(dir.path()));
    storage.save_hard_state({7, "node-3", 0});
  }
  const auto path = dir / "hardstate";

  SUBCASE("a flipped byte in the term") {
    flip_byte(path, 9);
  }
  SUBCASE("a flipped byte in the vote") {
    flip_byte(path, 30);
  }
  SUBCASE("a cut file") {
    fs::resize_file(path, fs::file_size(path) - 3);
  }
  SUBCASE("an empty file") {
    fs::resize_file(path, 0);
  }

  const auto error = open_error(options_for(dir.path()));
  CHECK(error.find(path.string()) != std::string::npos);
}

// ------------------------------------------------------------ one owner

TEST_CASE(
    "a second open of a directory in use is refused with a clear message until the first closes") {
  TempDir dir;
  {
    FileStorage first(options_for(dir.path()));
    first.append(make_entries(1, 3, 1));
    first.sync();

    const auto error = open_error(options_for(dir.path()));

    CHECK(error.find("in use") != std::string::npos);
    CHECK(error.find(dir.path().string()) != std::string::npos);
    first.append(make_entries(4, 4, 1));  // the first is unaffected
    first.sync();
  }
  FileStorage after(options_for(dir.path()));
  CHECK(after.entries() == make_entries(1, 4, 1));
}

TEST_CASE("a refused open releases the lock and leaves no descriptor open") {
  TempDir dir;
  write_log(dir.path(), make_entries(1, 10, 1), 64 << 20);
  flip_byte(segment_files(dir.path()).at(0), 40);
  const int before = open_descriptors();

  CHECK_FALSE(open_error(options_for(dir.path())).empty());

  CHECK(open_descriptors() == before);
  fs::remove(segment_files(dir.path()).at(0));
  CHECK(open_error(options_for(dir.path())).empty());
}

// ------------------------------------------------------------ failed system calls

namespace {

struct FlakyStorage {
  std::shared_ptr<FlakyOps> ops = std::make_shared<FlakyOps>();
  std::unique_ptr<FileStorage> storage;

  FlakyStorage(const fs::path& directory, std::uint64_t segment_bytes = 64 << 20) {
    auto options = options_for(directory, {}, segment_bytes);
    options.ops = ops;
    storage = std::make_unique<FileStorage>(options);
  }
};

/// Every call after a failure throws, even once the system calls work again.
void check_stays_failed(FlakyStorage& flaky) {
  flaky.ops->fail_writes = false;
  flaky.ops->fail_syncs = false;
  flaky.ops->writes_before_failure = -1;
  CHECK(flaky.storage->failed());
  CHECK_THROWS_AS(flaky.storage->append(make_entries(100, 100, 9)), StorageError);
  CHECK_THROWS_AS(flaky.storage->sync(), StorageError);
  CHECK_THROWS_AS(flaky.storage->save_hard_state({9, "z", 0}), StorageError);
}

}  // namespace

TEST_CASE("a failed write fails the storage; what was synced before survives a reopen") {
  TempDir dir;
  {
    FlakyStorage flaky(dir.path());
    flaky.storage->save_hard_state({3, "a", 0});
    flaky.storage->append(make_entries(1, 10, 3));
    flaky.storage->sync();
    flaky.ops->fail_writes = true;

    CHECK_THROWS_AS(flaky.storage->append(make_entries(11, 12, 3)), StorageError);

    check_stays_failed(flaky);
  }
  FileStorage reopened(options_for(dir.path()));
  CHECK(reopened.entries() == make_entries(1, 10, 3));
  CHECK(reopened.hard_state() == raft::HardState{3, "a", 0});
}

TEST_CASE("a failed fdatasync fails the storage; what was synced before survives a reopen") {
  TempDir dir;
  {
    FlakyStorage flaky(dir.path());
    flaky.storage->append(make_entries(1, 10, 1));
    flaky.storage->sync();
    flaky.storage->append(make_entries(11, 15, 1));
    flaky.ops->fail_syncs = true;

    CHECK_THROWS_AS(flaky.storage->sync(), StorageError);

    check_stays_failed(flaky);
  }
  FileStorage reopened(options_for(dir.path()));
  const auto entries = reopened.entries();
  REQUIRE(entries.size() >= 10);  // 11..15 were written, never acknowledged
  for (std::size_t i = 0; i < entries.size(); ++i) CHECK(entries[i] == make_entry(i + 1, 1));
}

TEST_CASE("a failed hard-state write fails the storage and keeps the previous hard state") {
  TempDir dir;
  {
    FlakyStorage flaky(dir.path());
    flaky.storage->append(make_entries(1, 2, 1));
    flaky.storage->save_hard_state({1, "a", 1});
    SUBCASE("the write fails") {
      flaky.ops->fail_writes = true;
    }
    SUBCASE("the fdatasync fails") {
      flaky.ops->fail_syncs = true;
    }

    CHECK_THROWS_AS(flaky.storage->save_hard_state({2, "b", 2}), StorageError);

    check_stays_failed(flaky);
  }
  CHECK(read_hard_state(dir / "hardstate") == raft::HardState{1, "a", 1});
}

TEST_CASE(
    "a failed write while starting a new segment fails the storage; the full segment survives") {
  TempDir dir;
  {
    FlakyStorage flaky(dir.path(), 200);
    flaky.storage->append(make_entries(1, 3, 1));
    flaky.storage->sync();
    flaky.ops->writes_before_failure =
        1;  // the entries' write succeeds, the new segment's header fails

    CHECK_THROWS_AS(flaky.storage->append(make_entries(4, 12, 1)), StorageError);

    check_stays_failed(flaky);
  }
  FileStorage reopened(options_for(dir.path(), {}, 200));
  CHECK(reopened.entries() == make_entries(1, 12, 1));  // synced by the rotation before the failure
}

TEST_CASE("a failed open of a fresh directory releases the lock and leaves no descriptor open") {
  TempDir dir;
  auto ops = std::make_shared<FlakyOps>();
  ops->fail_writes = true;
  auto options = options_for(dir.path());
  options.ops = ops;
  const int before = open_descriptors();

  CHECK_FALSE(open_error(options).empty());

  CHECK(open_descriptors() == before);
  CHECK(open_error(options_for(dir.path())).empty());
}

TEST_CASE("fsync policy never logs a warning at open and never calls fdatasync") {
  TempDir dir;
  LogLines log;
  auto ops = std::make_shared<FlakyOps>();
  auto options = options_for(dir.path(), log, 200);
  options.ops = ops;
  options.fsync = FsyncPolicy::never;

  {
    FileStorage storage(options);
    CHECK(log.any_contains("WARNING", "never"));
    storage.save_hard_state({1, "a", 0});
    storage.append(make_entries(1, 20, 1));
    storage.sync();
  }

  CHECK(ops->syncs == 0);
  FileStorage reopened(options_for(dir.path()));
  CHECK(reopened.entries() == make_entries(1, 20, 1));
}

TEST_CASE("fsync policy always logs nothing at open") {
  TempDir dir;
  LogLines log;
  FileStorage storage(options_for(dir.path(), log));
  CHECK(log.lines->empty());
}

// ------------------------------------------------------------ sync jobs (pipelined writes)

// A sync job runs on the node's worker while the owner goes on writing: it
// owns a descriptor of the segment it syncs, so a rotation meanwhile (which
// closes that segment after syncing it) cannot pull it away, and the job
// fails by throwing. Nothing stays open once the jobs are gone.
TEST_CASE("a sync job outlives later writes and a rotation, and reports a failed fdatasync") {
  TempDir dir;
  const auto before = open_descriptors();
  {
    FlakyStorage flaky(dir.path(), 4096);
    flaky.storage->append(make_entries(1, 5, 1));
    auto first = flaky.storage->sync_job();
    flaky.storage->append(make_entries(6, 200, 1));  // rotates past 4 KiB segments
    REQUIRE(segment_files(dir.path()).size() > 1);
    const auto syncs = flaky.ops->syncs;
    first();
    CHECK(flaky.ops->syncs == syncs + 1);
    auto failing = flaky.storage->sync_job();
    flaky.ops->fail_syncs = true;
    CHECK_THROWS_AS(failing(), StorageError);
    CHECK(flaky.storage->failed());  // a later fdatasync might not see the lost pages
  }
  CHECK(open_descriptors() == before);
  FileStorage reopened(options_for(dir.path()));
  CHECK(reopened.entries() == make_entries(1, 200, 1));
}

// A new term or vote is written only after the entries written before it
// are durable: its file carries a commit up to them, and recovery refuses a
// commit beyond the stored log.
TEST_CASE("a term or vote change first makes the entries written before it durable") {
  TempDir dir;
  FlakyStorage flaky(dir.path());
  flaky.storage->append(make_entries(1, 10, 1));
  const auto syncs = flaky.ops->syncs;
  flaky.storage->save_hard_state({2, "b", 10});
  CHECK(flaky.ops->syncs == syncs + 2);  // the segment, then the hard state's file
}
