#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace conflux::bench {

void ProgressLine::update(const char* phase, double elapsed, std::uint64_t completed,
                          std::uint64_t errors) {
  if (!enabled_) return;
  const auto now = Clock::now();
  const double interval = std::chrono::duration<double>(now - last_time_).count();
  const double rate =
      interval > 0 ? static_cast<double>(completed - last_completed_) / interval : 0;
  last_completed_ = completed;
  last_time_ = now;
  std::fprintf(stderr, "\r  %-9s %6.1f s  %12llu actions  %10.0f actions/s  %llu errors   ", phase,
               elapsed, static_cast<unsigned long long>(completed), rate,
               static_cast<unsigned long long>(errors));
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::clear() {
  if (!shown_) return;
  std::fprintf(stderr, "\r%88s\r", "");
  std::fflush(stderr);
  shown_ = false;
}

bool stderr_is_terminal() {
  return isatty(STDERR_FILENO) == 1;
}

}  // namespace conflux::bench
