// FileStorage under real crashes: a child process appends and syncs, and
// reports each synced index through a pipe; the test SIGKILLs it at a random
// moment, reopens the directory and checks that every acknowledged entry is
// there, byte for byte. Thirty rounds continue the same log, each starting
// by overwriting a few entries of the tail (as a follower does, Raft §5.3).
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

#include "storage/storage_test_util.hpp"

using namespace conflux;
using namespace conflux::storage;
using namespace conflux::storage::test;

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t crash_segment_bytes = 4096;
constexpr raft::Index entries_per_child = 600;  // a child that is never killed stops here

/// The child's whole life, after fork: no doctest, no exception escapes, and
/// _exit so that nothing of the parent's state is flushed or destroyed.
/// Acknowledges each synced batch by writing its last index (8 bytes: one
/// atomic pipe write) to `ack_fd`.
[[noreturn]] void run_writer(const fs::path& directory, raft::Index first, raft::Term term,
                             std::uint64_t seed, int ack_fd) {
  int status = 0;
  try {
    auto options = options_for(directory, {}, crash_segment_bytes);
    options.log = [](const std::string&) {};
    FileStorage storage(options);
    storage.save_hard_state({term, "n1", 0});
    std::mt19937_64 random(seed);
    raft::Index next = first;
    while (next < first + entries_per_child) {
      const auto last = next + random() % 8;
      storage.append(make_entries(next, last, term));
      storage.sync();
      next = last + 1;
      if (::write(ack_fd, &last, sizeof last) != static_cast<ssize_t>(sizeof last)) {
        status = 3;
        break;
      }
    }
  } catch (...) {
    status = 2;
  }
  ::_exit(status);
}

/// The parent's side of one child: acknowledgements read so far, and whether
/// the pipe has reached its end.
struct Acks {
  int fd = -1;
  std::string pending;
  raft::Index last = 0;
  int count = 0;
  bool eof = false;

  /// Reads what is available, waiting at most until `deadline`.
  void read_until(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd item{fd, POLLIN, 0};
    const int ready = ::poll(&item, 1, static_cast<int>(std::max<long long>(left, 0)));
    if (ready <= 0) return;
    char buffer[512];
    const auto got = ::read(fd, buffer, sizeof buffer);
    if (got == 0) eof = true;
    if (got <= 0) return;
    pending.append(buffer, static_cast<std::size_t>(got));
    while (pending.size() >= sizeof(raft::Index)) {
      std::memcpy(&last, pending.data(), sizeof last);
      pending.erase(0, sizeof last);
      ++count;
    }
  }
};

struct Model {
  std::vector<raft::Term>
      acknowledged;                 // acknowledged[i]: term of entry i + 1, synced by some child
  raft::Term lowest_hard_term = 0;  // a child acknowledged after saving this term
  std::size_t entries_checked = 0;
  int torn_tails_cut = 0;  // recoveries that found a record cut by the kill
};

/// Reopens the directory and checks it against the model; returns the terms
/// of the recovered entries.
std::vector<raft::Term> check_recovered(const fs::path& directory, raft::Term last_term,
                                        Model& model) {
  LogLines log;
  FileStorage storage(options_for(directory, log, crash_segment_bytes));
  const auto entries = storage.entries();
  REQUIRE(entries.size() >= model.acknowledged.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    REQUIRE(entries[i] == make_entry(i + 1, entries[i].term));  // intact, whatever the term
    if (i < model.acknowledged.size()) REQUIRE(entries[i].term == model.acknowledged[i]);
  }
  model.entries_checked += model.acknowledged.size();
  if (log.any_contains("torn")) ++model.torn_tails_cut;
  const auto state = storage.hard_state();
  CHECK(state.term >= model.lowest_hard_term);
  CHECK(state.term <= last_term);
  CHECK(state.vote == (state.term == 0 ? "" : "n1"));
  std::vector<raft::Term> terms;
  for (const auto& entry : entries) terms.push_back(entry.term);
  return terms;
}

/// Forks a writer continuing the log at `first` in `term`, SIGKILLs it after
/// a random number of acknowledgements or at a random deadline, and returns
/// every acknowledgement it sent (those read after the kill count too: each
/// followed a sync).
Acks run_and_kill(const fs::path& directory, raft::Index first, raft::Term term,
                  std::mt19937_64& random, bool& killed) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const std::uint64_t child_seed = random();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    run_writer(directory, first, term, child_seed, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  Acks acks;
  acks.fd = pipe_fds[0];

  const bool by_count = random() % 2 == 0;
  const int kill_after = static_cast<int>(random() % 12);
  const auto start = Clock::now();
  const auto deadline = start + (by_count ? std::chrono::microseconds(10'000'000)
                                          : std::chrono::microseconds(random() % 15'000));
  while (!acks.eof && Clock::now() < deadline && !(by_count && acks.count >= kill_after))
    acks.read_until(deadline);
  CHECK(Clock::now() - start < std::chrono::seconds(10));
  ::kill(child, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  CHECK((killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));

  const auto drain_deadline = Clock::now() + std::chrono::seconds(5);
  while (!acks.eof && Clock::now() < drain_deadline) acks.read_until(drain_deadline);
  CHECK(acks.eof);
  ::close(pipe_fds[0]);
  return acks;
}

}  // namespace

TEST_CASE("entries acknowledged after sync survive SIGKILL at random moments") {
  TempDir dir;
  std::mt19937_64 random(0xc0ff1u);
  Model model;
  int acks_total = 0;
  int kills = 0;
  constexpr raft::Term rounds = 30;

  for (raft::Term term = 1; term <= rounds; ++term) {
    CAPTURE(term);
    // The child starts a few entries back, overwriting them; until it
    // acknowledges, only the entries before `first` stay required.
    auto recovered = check_recovered(dir.path(), term - 1, model);
    const raft::Index first =
        recovered.size() + 1 - std::min<std::size_t>(recovered.size(), random() % 4);
    recovered.resize(first - 1);
    if (model.acknowledged.size() > recovered.size()) model.acknowledged.resize(recovered.size());

    bool killed = false;
    const auto acks = run_and_kill(dir.path(), first, term, random, killed);

    kills += killed ? 1 : 0;
    acks_total += acks.count;
    if (acks.count > 0) {  // the child's syncs cover the entries it found as well as its own
      model.acknowledged = recovered;
      model.acknowledged.resize(acks.last, term);
      model.lowest_hard_term = term;
    }
  }
  check_recovered(dir.path(), rounds, model);

  MESSAGE("rounds: " << rounds << ", killed: " << kills << ", acknowledgements: " << acks_total
                     << ", acknowledged entries checked: " << model.entries_checked
                     << ", final log: " << model.acknowledged.size()
                     << ", torn tails cut: " << model.torn_tails_cut);
  CHECK(kills >= rounds / 2);
  CHECK(acks_total > 0);
}
