// The randomized simulation: many seeds, each a cluster of 1, 3, 5 or 7 pure
// Raft cores under message loss, duplication, reordering, partitions and
// crashes, with Raft's safety properties checked after every step.
//
//   SIM_SEED=<n>   replay exactly seed n (what a failure prints)
//   SIM_SEEDS=<n>  run n seeds, 1..n (default 5000)
//   SIM_STEPS=<n>  steps per seed (default 2000)
//   SIM_FAIL_FAST=1  stop at the first failing seed

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "sim/simulation.hpp"

namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::stoull(value) : fallback;
}

}  // namespace

TEST_CASE("simulation: Raft safety holds after every step, and a healed cluster commits") {
  const auto steps = static_cast<int>(env_or("SIM_STEPS", 2000));
  std::uint64_t first = 1;
  std::uint64_t count = env_or("SIM_SEEDS", 5000);
  if (std::getenv("SIM_SEED")) {
    first = env_or("SIM_SEED", 1);
    count = 1;
  }
  std::size_t committed = 0;
  std::uint64_t terms = 0;
  std::size_t installs = 0;
  std::size_t reads = 0;
  std::size_t failed = 0;
  const bool fail_fast = std::getenv("SIM_FAIL_FAST") != nullptr;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    CAPTURE(seed);  // printed if the core aborts on a broken invariant
    const auto result = conflux::sim::run_simulation(seed, steps);
    committed += result.committed;
    terms += result.max_term;
    installs += result.installs;
    reads += result.reads;
    if (result.ok) continue;
    if (++failed <= 10) {
      FAIL_CHECK("replay with SIM_SEED=" << seed << " (" << result.nodes
                                         << " nodes): " << result.failure);
    }
    if (fail_fast) break;
  }
  MESSAGE(count, " seeds x ", steps, " steps: ", failed, " failed, ", committed,
          " entries committed, ", installs, " snapshots installed, ", reads, " reads served, ",
          terms, " terms in all");
  CHECK(failed == 0);
}
