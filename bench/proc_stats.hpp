#pragma once
// CPU time and peak memory of processes, read from /proc (Linux).

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace conflux::bench {

/// User + system CPU seconds of every thread of `pid` so far (from
/// /proc/<pid>/stat, in clock ticks: 10 ms resolution), or nullopt when
/// the process is gone.
std::optional<double> process_cpu_seconds(pid_t pid);

/// Peak resident set size (VmHWM) of `pid` in bytes, or nullopt.
std::optional<std::uint64_t> peak_rss_bytes(pid_t pid);

/// This process's own CPU seconds, every thread (getrusage: microseconds).
double own_cpu_seconds();

/// This process's own peak RSS in bytes.
std::uint64_t own_peak_rss_bytes();

/// Raises the soft limit on open files to the hard limit: a run with 1024
/// connections needs more than the usual 1024 descriptors, here and in the
/// nodes (which inherit the limit).
void raise_open_file_limit();

}  // namespace conflux::bench
