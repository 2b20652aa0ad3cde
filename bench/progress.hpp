#pragma once
// The line a run keeps rewriting (\r) on a terminal, about 4 times a second:
// phase, elapsed time, actions so far and the recent rate. Off on pipes,
// where it would only fill logs.

#include <cstdint>

#include "load_recorder.hpp"

namespace conflux::bench {

class ProgressLine {
 public:
  /// `enabled`: write to standard error at all.
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() { clear(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  /// `phase` is "warm-up" or "measuring"; `elapsed` counts from its start.
  void update(const char* phase, double elapsed, std::uint64_t completed, std::uint64_t errors);
  /// Erases the line so that the report starts on a clean one.
  void clear();

 private:
  bool enabled_;
  bool shown_ = false;
  std::uint64_t last_completed_ = 0;
  Clock::time_point last_time_ = Clock::now();
};

/// True when standard error is a terminal.
bool stderr_is_terminal();

}  // namespace conflux::bench
