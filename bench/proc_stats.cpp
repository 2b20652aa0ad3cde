#include "proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace conflux::bench {

namespace {

std::optional<std::string> read_proc(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

double seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

}  // namespace

std::optional<double> process_cpu_seconds(pid_t pid) {
  const auto stat = read_proc("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: the
  // fields are counted from the last ')'. utime and stime are fields 14, 15.
  const auto close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat->substr(close + 1));
  std::string skipped;
  for (int field = 3; field < 14; ++field) fields >> skipped;
  unsigned long long utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::optional<std::uint64_t> peak_rss_bytes(pid_t pid) {
  const auto status = read_proc("/proc/" + std::to_string(pid) + "/status");
  if (!status) return std::nullopt;
  const auto at = status->find("VmHWM:");
  if (at == std::string::npos) return std::nullopt;
  std::istringstream line(status->substr(at + 6));
  std::uint64_t kib = 0;
  if (!(line >> kib)) return std::nullopt;
  return kib * 1024;
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::uint64_t own_peak_rss_bytes() {
  if (const auto bytes = peak_rss_bytes(getpid())) return *bytes;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);  // best effort: the run reports failed connections
}

}  // namespace conflux::bench
