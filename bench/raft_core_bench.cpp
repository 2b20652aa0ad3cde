// Pushes entries through three pure Raft cores joined by an in-memory,
// loss-free network (no sockets, no disk: MemoryStorage), and prints
// committed entries per second and heap allocations per entry, for several
// payload sizes. Measures the core alone; the transports have their own.
//
//   raft_core_bench [--entries N] [--batch B] [--sizes 16,256,4096]

#include <algorithm>
#include <chrono>
#include <conflux/raft/raft.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "version.hpp"

namespace {

std::size_t allocations = 0;

}  // namespace

// Counts every heap allocation in the process (single-threaded benchmark).
void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace conflux::raft;

struct Node {
  MemoryStorage storage;
  Raft raft;
  Node(Config config) : raft(std::move(config), storage) {}
};

class Bench {
 public:
  Bench() {
    const std::vector<NodeId> ids{"a", "b", "c"};
    for (std::size_t i = 0; i < ids.size(); ++i) {
      Config config;
      config.id = ids[i];
      config.voters = ids;
      config.seed = i + 1;
      nodes_.push_back(std::make_unique<Node>(config));
    }
    while (nodes_[0]->raft.role() != Role::leader) {
      nodes_[0]->raft.tick();
      pump();
    }
  }

  /// Proposes `count` entries of `size` bytes in batches; returns when all
  /// have been applied on the leader.
  void run(std::size_t count, std::size_t size, std::size_t batch) {
    Raft& leader = nodes_[0]->raft;
    const Index target = leader.log().last_index() + count;
    while (applied_ < target) {
      for (std::size_t i = 0; i < batch && leader.log().last_index() < target; ++i) {
        leader.propose(Payload(std::string(size, 'x')));
      }
      pump();
    }
  }

 private:
  // Drains every node's Ready (persist, send, apply, advance) and delivers
  // messages until the cluster is quiet.
  void pump() {
    for (bool busy = true; busy;) {
      busy = false;
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        Node& node = *nodes_[i];
        if (!node.raft.has_ready()) continue;
        busy = true;
        Ready ready = node.raft.ready();
        if (ready.hard_state) node.storage.save_hard_state(*ready.hard_state);
        node.storage.append(ready.entries);
        for (auto& message : ready.early_messages) wire_.push_back(std::move(message));
        for (auto& message : ready.messages) wire_.push_back(std::move(message));
        if (i == 0 && !ready.committed.empty()) applied_ = ready.committed.back().index;
        node.raft.advance(ready);
      }
      std::vector<Message> delivering;
      delivering.swap(wire_);
      for (auto& message : delivering) {
        nodes_[static_cast<std::size_t>(message.to[0] - 'a')]->raft.step(std::move(message));
        busy = true;
      }
    }
  }

  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Message> wire_;
  Index applied_ = 0;
};

std::vector<std::size_t> parse_sizes(const std::string& list) {
  std::vector<std::size_t> sizes;
  for (std::size_t start = 0; start < list.size();) {
    const auto comma = list.find(',', start);
    sizes.push_back(std::stoul(list.substr(start, comma - start)));
    start = comma == std::string::npos ? list.size() : comma + 1;
  }
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  if (conflux::cli::printed_version({argv + 1, argv + argc}, "raft_core_bench")) return 0;
  std::size_t entries = 1'000'000;
  std::size_t batch = 256;
  std::vector<std::size_t> sizes{16, 256, 4096};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--entries")
      entries = std::stoul(argv[i + 1]);
    else if (flag == "--batch")
      batch = std::stoul(argv[i + 1]);
    else if (flag == "--sizes")
      sizes = parse_sizes(argv[i + 1]);
    else {
      std::fprintf(stderr,
                   "unknown flag %s\nusage: %s [--entries N] [--batch B] [--sizes 16,256]\n",
                   argv[i], argv[0]);
      return 2;
    }
  }
  std::printf("3 pure cores, in-memory network and storage, %zu entries, batches of %zu\n", entries,
              batch);
  std::printf("%10s %10s %16s %14s\n", "payload B", "entries", "entries/s", "allocs/entry");
  for (const auto size : sizes) {
    // Nothing is compacted yet, so every payload stays in memory: cap the
    // run at 512 MiB of payload so that large sizes measure the core, not
    // page faults.
    const std::size_t count =
        std::min(entries, (std::size_t{512} << 20) / std::max<std::size_t>(size, 1));
    Bench bench;
    const auto allocations_before = allocations;
    const auto start = std::chrono::steady_clock::now();
    bench.run(count, size, batch);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    std::printf("%10zu %10zu %16.0f %14.2f\n", size, count,
                static_cast<double>(count) / elapsed.count(),
                static_cast<double>(allocations - allocations_before) / static_cast<double>(count));
  }
}
