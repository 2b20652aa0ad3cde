// One line per simulation seed: whether it held, the cluster size, entries
// committed, liveness ticks and the highest term. Built twice, natively
// (libstdc++) and with emscripten (WebAssembly, libc++ 13): the outputs must
// be identical, byte for byte, because a browser peer runs the same core and
// a seed must replay the same way everywhere (tests/wasm/compare.cmake).
//
//   replay_digest [SEEDS]   (default 500)
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sim/simulation.hpp"

int main(int argc, char** argv) {
  const long seeds = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 500;
  for (long seed = 1; seed <= seeds; ++seed) {
    const auto r = conflux::sim::run_simulation(static_cast<std::uint64_t>(seed), 2000);
    std::printf("%ld %d %zu %zu %d %llu %s\n", seed, r.ok ? 1 : 0, r.nodes, r.committed,
                r.liveness_ticks, static_cast<unsigned long long>(r.max_term), r.failure.c_str());
  }
  return 0;
}
