#pragma once
// One seeded simulation run: a random phase of adversarial steps (message
// loss, duplication, reordering, partitions, crashes, proposals), with every
// safety property checked after each step, then a healed phase in which a
// leader must emerge and a fresh proposal must commit everywhere in bounded
// time (liveness).

#include <cstddef>
#include <cstdint>
#include <string>

namespace conflux::sim {

struct SimulationResult {
  bool ok = true;
  std::string failure;  ///< what broke, and at which step
  std::size_t nodes = 0;
  std::size_t committed = 0;   ///< entries committed by the end
  int liveness_ticks = 0;      ///< ticks the healed cluster needed to commit
  std::uint64_t max_term = 0;  ///< highest term reached (a measure of churn)
  std::size_t installs = 0;    ///< snapshots installed from a leader (restarts not counted)
  std::size_t reads = 0;       ///< reads given an index (and checked)
};

/// Runs seed `seed` for `steps` random steps. Deterministic: the same seed
/// and steps give the same run, on every platform.
SimulationResult run_simulation(std::uint64_t seed, int steps);

}  // namespace conflux::sim
