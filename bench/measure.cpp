#include "measure.hpp"

#include <algorithm>

#include "interrupt.hpp"
#include "progress.hpp"

namespace conflux::bench {

namespace {

constexpr auto tick = std::chrono::milliseconds(250);  // progress and health checks

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

/// Waits until `until` or until the window closes, updating the progress
/// line and checking the cluster's health every tick.
void watch(LoadTarget& target, LoadRecorder& recorder, ProgressLine& progress, const char* phase,
           Clock::time_point phase_start, Clock::time_point until) {
  for (;;) {
    const bool finished = recorder.wait_finished(std::min(until, Clock::now() + tick));
    throw_if_interrupted();
    target.check();
    const double elapsed = std::chrono::duration<double>(Clock::now() - phase_start).count();
    progress.update(phase, elapsed, recorder.completed(), recorder.errors());
    if (finished || Clock::now() >= until) return;
  }
}

/// The window itself: the CPU samples at its two ends go into `m`.
void run_window(LoadTarget& target, LoadRecorder& recorder, ProgressLine& progress,
                const LoadWindow& window, Measurement& m) {
  m.at_start = target.sample();
  const auto completed_at_start = recorder.completed();
  if (window.measure_until) {
    watch(target, recorder, progress, "measuring", window.measure_from, *window.measure_until);
    // A stalled cluster completes nothing: the clock closes the window.
    recorder.close_window_at_deadline();
  } else {
    watch(target, recorder, progress, "measuring", window.measure_from, Clock::time_point::max());
  }
  m.at_end = target.sample();
  m.actions_between_samples = recorder.completed() - completed_at_start;
}

}  // namespace

Measurement measure(LoadTarget& target, const BenchFlags& flags) {
  ProgressLine progress(flags.progress.value_or(stderr_is_terminal()));
  const auto start = Clock::now();
  LoadWindow window;
  window.measure_from = start + seconds(flags.warmup);
  if (flags.duration) {
    window.measure_until = window.measure_from + seconds(*flags.duration);
  } else {
    window.count = flags.count;
  }
  auto recorder = std::make_shared<LoadRecorder>(window);
  target.start(recorder);
  Measurement m;
  try {
    watch(target, *recorder, progress, "warm-up", start, window.measure_from);
    run_window(target, *recorder, progress, window, m);
  } catch (...) {
    progress.clear();
    recorder->request_stop();
    target.stop();
    throw;
  }
  progress.clear();
  recorder->request_stop();
  target.stop();
  m.load = recorder->figures();
  return m;
}

}  // namespace conflux::bench
