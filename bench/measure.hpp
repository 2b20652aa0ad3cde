#pragma once
// One run: warm-up, then the measurement window, with CPU samples of every
// process taken when the window opens and when it closes.

#include <cstdint>
#include <vector>

#include "bench_flags.hpp"
#include "load_recorder.hpp"
#include "load_target.hpp"

namespace conflux::bench {

struct Measurement {
  LoadFigures load;
  std::vector<ProcessSample> at_start;  ///< when the window opened
  std::vector<ProcessSample> at_end;    ///< when it closed
  /// Actions completed between the two samples: CPU per action divides by
  /// this, so that both figures cover exactly the same stretch of time.
  std::uint64_t actions_between_samples = 0;
};

/// Starts the load on `target`, runs the warm-up and the window, stops the
/// load. Throws Interrupted on Ctrl-C and std::runtime_error when part of
/// the cluster dies (the target is stopped either way).
Measurement measure(LoadTarget& target, const BenchFlags& flags);

}  // namespace conflux::bench
