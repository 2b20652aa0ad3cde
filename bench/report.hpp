#pragma once
// The figures of a run: printed as a table for people, and as one JSON
// object (all parameters and figures) for sweeps and plots.

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench_flags.hpp"
#include "measure.hpp"

namespace conflux::bench {

/// The raw TCP ping-pong (raw_ping_pong.hpp), blocking across two CPUs,
/// blocking on one, and spinning across two. "run / raw" is taken against
/// the first, "run / floor" against the lowest p50 of the three.
struct RawTcp {
  double p50_us = 0;
  double p99_us = 0;
  bool cross_cpu = false;  ///< pinned to two CPUs; false: where the scheduler put them
  std::optional<double> same_cpu_p50_us;
  std::optional<double> same_cpu_p99_us;
  std::optional<double> spin_p50_us;
  std::optional<double> spin_p99_us;
  double floor_p50_us() const;
  std::size_t round_trips = 0;
  std::size_t bytes = 0;  ///< per message: the size of one HTTP perform request
};

struct ProcessFigures {
  std::string name;
  std::string role;  ///< "node", "hub", "redis", "bench", "process" or "leader" (see ProcessSample)
  std::optional<double> cpu_seconds;  ///< during the window
  std::optional<std::uint64_t> peak_rss;
};

struct LatencySummary {
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0;
};

struct RunReport {
  BenchFlags flags;
  std::string started_at;  ///< UTC, ISO 8601
  std::string leader;
  std::uint64_t actions = 0;
  double seconds = 0;
  double throughput = 0;  ///< actions per second
  LatencySummary latency;
  std::map<std::string, std::uint64_t> errors;  ///< in the window, by kind
  RawTcp raw;
  std::vector<ProcessFigures> processes;
  std::uint64_t cpu_actions = 0;  ///< actions completed while CPU was measured
  /// CPU seconds per 1,000 actions, summed over the processes of each role.
  std::map<std::string, double> cpu_per_1000;
};

RunReport make_report(const BenchFlags& flags, std::string started_at, std::string leader,
                      const Measurement& measurement, const RawTcp& raw);
void print_report(const RunReport& report, std::FILE* out);
/// One line of JSON, without the newline.
std::string report_json(const RunReport& report);
/// Writes (or appends, with --json-append) report_json to flags.json_file.
/// Throws std::runtime_error when the file cannot be written.
void save_json(const RunReport& report);

}  // namespace conflux::bench
