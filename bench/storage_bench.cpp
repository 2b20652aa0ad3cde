// Durable storage on this machine's disk. For batches of 1, 16, 256 and
// 4096 entries of 256 bytes: entries per second through FileStorage (append
// plus sync per batch, as a node does per Ready) and through a plain file
// (one write of the same number of bytes plus fdatasync per batch), with the
// sync latency of each, and the ratio. Then recovery: a log of --recovery-mib
// written without syncs (then synced once), and the time to open it again,
// from the disk (page cache dropped for its files) and from the page cache,
// next to a plain read(2) of the same files from the disk.
//
//   storage_bench [--seconds S] [--batches 1,16,256,4096] [--recovery-mib M] [--dir PATH]
//
// --dir is where the temporary directory goes (default: $TMPDIR or /tmp);
// report its filesystem with the figures (df PATH).

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <conflux/storage/file_storage.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "version.hpp"

namespace {

namespace fs = std::filesystem;
namespace raft = conflux::raft;
using namespace conflux::storage;
using Clock = std::chrono::steady_clock;

constexpr std::size_t payload_bytes = 256;
/// Bytes of one entry record on disk: header, index, term, type, payload.
constexpr std::size_t record_bytes = 9 + 17 + payload_bytes;

struct Args {
  double seconds = 2;
  std::vector<std::size_t> batches{1, 16, 256, 4096};
  std::size_t recovery_mib = 1024;
  fs::path dir = fs::temp_directory_path();
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: storage_bench [--seconds S] [--batches 1,16,256,4096] [--recovery-mib M] "
               "[--dir PATH]\n");
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage();
    const std::string value = argv[++i];
    if (flag == "--seconds") {
      args.seconds = std::stod(value);
    } else if (flag == "--recovery-mib") {
      args.recovery_mib = std::stoul(value);
    } else if (flag == "--dir") {
      args.dir = value;
    } else if (flag == "--batches") {
      args.batches.clear();
      for (std::size_t at = 0; at < value.size();) {
        std::size_t end = value.find(',', at);
        if (end == std::string::npos) end = value.size();
        args.batches.push_back(std::stoul(value.substr(at, end - at)));
        at = end + 1;
      }
    } else {
      usage();
    }
  }
  return args;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "storage_bench: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Run {
  double entries_per_second = 0;
  double sync_p50_us = 0;
  double sync_p99_us = 0;
};

Run summarize(std::size_t entries, double elapsed, std::vector<double>& syncs) {
  std::sort(syncs.begin(), syncs.end());
  const auto at = [&](double q) {
    return syncs[static_cast<std::size_t>(q * static_cast<double>(syncs.size() - 1))];
  };
  return Run{static_cast<double>(entries) / elapsed, at(0.50) * 1e6, at(0.99) * 1e6};
}

std::vector<raft::Entry> make_batch(std::size_t size) {
  const raft::Payload payload(std::string(payload_bytes, 'x'));
  return std::vector<raft::Entry>(size, raft::Entry{1, 0, raft::EntryType::normal, payload});
}

/// FileStorage: append + sync per batch, for `seconds`.
Run run_ours(const fs::path& directory, std::size_t batch_size, double seconds) {
  FileStorageOptions options;
  options.directory = directory;
  FileStorage storage(std::move(options));
  auto batch = make_batch(batch_size);
  raft::Index next = 1;
  std::size_t entries = 0;
  std::vector<double> syncs;
  const auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    for (auto& entry : batch) entry.index = next++;
    storage.append(batch);
    const auto before = Clock::now();
    storage.sync();
    syncs.push_back(seconds_since(before));
    entries += batch_size;
  }
  return summarize(entries, seconds_since(start), syncs);
}

/// A plain file: one write of the same bytes + fdatasync per batch.
Run run_raw(const fs::path& directory, std::size_t batch_size, double seconds) {
  fs::create_directories(directory);
  const auto path = directory / "raw.log";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + path.string());
  const std::string bytes(batch_size * record_bytes, 'x');
  std::size_t entries = 0;
  std::vector<double> syncs;
  const auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
      die("write " + path.string());
    const auto before = Clock::now();
    if (::fdatasync(fd) != 0) die("fdatasync " + path.string());
    syncs.push_back(seconds_since(before));
    entries += batch_size;
  }
  ::close(fd);
  return summarize(entries, seconds_since(start), syncs);
}

void bench_appends(const Args& args, const fs::path& root) {
  std::printf("appends with sync: %zu-byte entries (%zu bytes per record), %.1f s per run\n\n",
              payload_bytes, record_bytes, args.seconds);
  std::printf(
      "| batch | ours entries/s | ours MB/s | ours sync p50/p99 us | raw entries/s | raw sync "
      "p50/p99 us "
      "| ours/raw |\n");
  std::printf(
      "|------:|---------------:|----------:|--------------------:|--------------:|----------------"
      "----:"
      "|---------:|\n");
  for (const auto batch : args.batches) {
    const auto ours_dir = root / ("ours-" + std::to_string(batch));
    const auto raw_dir = root / ("raw-" + std::to_string(batch));
    const Run ours = run_ours(ours_dir, batch, args.seconds);
    fs::remove_all(ours_dir);
    const Run raw = run_raw(raw_dir, batch, args.seconds);
    fs::remove_all(raw_dir);
    std::printf("| %5zu | %14.0f | %9.1f | %9.0f / %7.0f | %13.0f | %9.0f / %7.0f | %8.2f |\n",
                batch, ours.entries_per_second, ours.entries_per_second * record_bytes / 1e6,
                ours.sync_p50_us, ours.sync_p99_us, raw.entries_per_second, raw.sync_p50_us,
                raw.sync_p99_us, ours.entries_per_second / raw.entries_per_second);
    std::fflush(stdout);
  }
}

/// Writes back and drops the page cache of every file in `directory`.
void drop_cache(const fs::path& directory) {
  for (const auto& item : fs::directory_iterator(directory)) {
    const int fd = ::open(item.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open " + item.path().string());
    if (::fdatasync(fd) != 0) die("fdatasync " + item.path().string());
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

/// Seconds the constructor takes (recovery), not counting the destructor.
double time_open(const fs::path& directory, std::size_t expected_entries) {
  FileStorageOptions options;
  options.directory = directory;
  const auto start = Clock::now();
  const FileStorage storage(std::move(options));
  const double elapsed = seconds_since(start);
  const std::size_t recovered = storage.last_index();
  if (recovered != expected_entries) {
    std::fprintf(stderr, "recovered %zu entries, expected %zu\n", recovered, expected_entries);
    std::exit(1);
  }
  return elapsed;
}

/// Seconds to read every file of `directory` with read(2), 1 MiB at a time.
double time_read(const fs::path& directory) {
  std::string buffer(1 << 20, '\0');
  const auto start = Clock::now();
  for (const auto& item : fs::directory_iterator(directory)) {
    const int fd = ::open(item.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open " + item.path().string());
    ssize_t got = 0;
    while ((got = ::read(fd, buffer.data(), buffer.size())) > 0) {
    }
    if (got < 0) die("read " + item.path().string());
    ::close(fd);
  }
  return seconds_since(start);
}

void bench_recovery(const Args& args, const fs::path& root) {
  const auto directory = root / "recovery";
  const std::size_t total = args.recovery_mib << 20;
  const std::size_t entries = total / record_bytes;
  const auto write_start = Clock::now();
  {
    FileStorageOptions options;
    options.directory = directory;
    options.fsync = FsyncPolicy::never;
    options.log = [](const std::string&) {};
    FileStorage storage(std::move(options));
    auto batch = make_batch(4096);
    for (raft::Index next = 1; next <= entries;) {
      batch.resize(std::min<std::size_t>(batch.size(), entries - next + 1));
      for (auto& entry : batch) entry.index = next++;
      storage.append(batch);
    }
  }
  drop_cache(directory);  // the one sync, and the page cache dropped for these files
  const double write_seconds = seconds_since(write_start);
  std::size_t bytes = 0;
  for (const auto& item : fs::directory_iterator(directory)) bytes += fs::file_size(item.path());
  const double gib = static_cast<double>(bytes) / (1u << 30);
  std::printf(
      "\nrecovery: %zu entries, %.3f GiB in %zu-MiB segments (written and synced in %.1f s)\n",
      entries, gib, std::size_t{64}, write_seconds);
  const double cold = time_open(directory, entries);
  std::printf("  open from disk (cache dropped): %.2f s = %.2f GiB/s\n", cold, gib / cold);
  const double warm = time_open(directory, entries);
  std::printf("  open from page cache:           %.2f s = %.2f GiB/s\n", warm, gib / warm);
  drop_cache(directory);
  const double raw = time_read(directory);
  std::printf("  raw: read(2) of the same files from disk: %.2f s = %.2f GiB/s\n", raw, gib / raw);
  fs::remove_all(directory);
}

}  // namespace

int main(int argc, char** argv) {
  if (conflux::cli::printed_version({argv + 1, argv + argc}, "storage_bench")) return 0;
  const Args args = parse(argc, argv);
  std::string pattern = (args.dir / "conflux-storage-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) die("mkdtemp in " + args.dir.string());
  const fs::path root = pattern;
  std::printf("directory: %s\n\n", root.c_str());
  bench_appends(args, root);
  if (args.recovery_mib > 0) bench_recovery(args, root);
  fs::remove_all(root);
}
