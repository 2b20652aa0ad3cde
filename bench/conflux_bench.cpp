// conflux-bench: throughput, latency percentiles, CPU and memory of a
// Conflux cluster under a closed-loop load of write(payload) performs, in
// one process or across conflux-node processes (docs/performance.md).
// Exit codes: 0 after a run that committed actions, 1 when the run failed,
// 2 for a bad command line, 130 when interrupted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench_flags.hpp"
#include "http_response.hpp"
#include "interrupt.hpp"
#include "load_target.hpp"
#include "measure.hpp"
#include "proc_stats.hpp"
#include "raw_ping_pong.hpp"
#include "report.hpp"
#include "version.hpp"

namespace {

using namespace conflux::bench;

std::string utc_now() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

/// p50 and p99 of one raw ping-pong, and whether it ran pinned.
struct Floor {
  double p50_us = 0;
  double p99_us = 0;
  bool pinned = false;
};

Floor ping_pong_floor(const BenchFlags& flags, std::size_t bytes, std::optional<PingPongCpus> cpus,
                      PingPongWait wait = PingPongWait::block) {
  auto run = raw_ping_pong(flags.pings, bytes, cpus, wait);
  auto& rtts = run.rtts;
  std::sort(rtts.begin(), rtts.end());
  return {rtts[rtts.size() / 2], rtts[rtts.size() * 99 / 100], run.pinned};
}

/// The floors this run is compared with: a TCP echo of messages the size of
/// one perform request, blocking between two CPUs, blocking on one, and
/// spinning between two (raw_ping_pong.hpp). Taken before any node starts,
/// so that they measure the machine, not the machine busy with a cluster.
RawTcp measure_raw_tcp(const BenchFlags& flags) {
  const auto request = perform_request("127.0.0.1:65535", "write", write_arguments(flags.payload));
  RawTcp raw;
  raw.round_trips = flags.pings;
  raw.bytes = request.size();
  const auto cpus = two_allowed_cpus();
  const auto cross = ping_pong_floor(flags, request.size(), cpus);
  raw.p50_us = cross.p50_us;
  raw.p99_us = cross.p99_us;
  raw.cross_cpu = cross.pinned;
  if (cross.pinned) {
    const auto same =
        ping_pong_floor(flags, request.size(), PingPongCpus{cpus->client, cpus->client});
    if (same.pinned) {
      raw.same_cpu_p50_us = same.p50_us;
      raw.same_cpu_p99_us = same.p99_us;
    }
    const auto spin = ping_pong_floor(flags, request.size(), cpus, PingPongWait::spin);
    if (spin.pinned) {
      raw.spin_p50_us = spin.p50_us;
      raw.spin_p99_us = spin.p99_us;
    }
  }
  return raw;
}

int run(const BenchFlags& flags) {
  const auto started_at = utc_now();
  const auto raw = measure_raw_tcp(flags);
  const bool local_clients = flags.mode == Mode::inprocess || flags.mode == Mode::embedded;
  auto target = local_clients ? make_inprocess_target(flags) : make_http_target(flags);
  const auto measurement = measure(*target, flags);
  const auto report = make_report(flags, started_at, target->leader(), measurement, raw);
  target.reset();  // the nodes end (processes killed, directories removed) before the output
  print_report(report, stdout);
  std::fflush(stdout);
  if (!flags.json_file.empty()) save_json(report);
  if (report.actions == 0) {
    std::fprintf(stderr, "conflux-bench: no action was committed in the window\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (conflux::cli::printed_version(args, "conflux-bench")) return 0;
  BenchFlags flags;
  try {
    flags = parse_bench_flags(args);
  } catch (const FlagError& error) {
    std::fprintf(stderr, "conflux-bench: %s\nTry 'conflux-bench --help'.\n", error.what());
    return 2;
  }
  if (flags.help) {
    std::fputs(bench_usage().c_str(), stdout);
    return 0;
  }
  install_interrupt_handler();
  raise_open_file_limit();
  try {
    return run(flags);
  } catch (const Interrupted&) {
    std::fprintf(stderr, "conflux-bench: interrupted\n");
    return 130;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "conflux-bench: %s\n", error.what());
    return 1;
  }
}
