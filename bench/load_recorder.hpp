#pragma once
// What the clients of a run report to, and what decides when a run ends.
//
// The clients live on one load thread and call on_success()/on_error()
// after every request; the main thread watches the atomic counters (for the
// progress line and the CPU samples) and waits for finished(). The
// histogram and the error table are touched by the load thread only, and
// read once it has been stopped.
//
// The measurement window is [measure_from, end): with a duration, end is
// known in advance; with a count, end is the completion of the count-th
// action. Only actions completing inside the window are counted, so the
// warm-up (connection set-up, first elections of the clients' timers,
// cold caches) stays out of the figures.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "latency.hpp"

namespace conflux::bench {

using Clock = std::chrono::steady_clock;

struct LoadWindow {
  Clock::time_point measure_from;
  /// Set for a run by duration: actions completing later are not counted.
  std::optional<Clock::time_point> measure_until;
  /// Set for a run by count: the window closes at the count-th action.
  std::optional<std::uint64_t> count;
};

/// The figures of the window, once the load has stopped.
struct LoadFigures {
  std::uint64_t actions = 0;  ///< successful performs completed in the window
  double seconds = 0;         ///< length of the window
  LatencyHistogram latency;
  std::map<std::string, std::uint64_t> errors;  ///< in the window, by kind
  std::uint64_t errors_total = 0;               ///< in the whole run
};

class LoadRecorder {
 public:
  explicit LoadRecorder(LoadWindow window) : window_(window) {}

  // Load thread. Each returns whether the client should send another request.
  bool on_success(Clock::time_point sent, Clock::time_point done);
  bool on_error(std::string_view kind, Clock::time_point done);

  /// Any thread: clients stop after their request in flight.
  void request_stop();
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  // Main thread.
  std::uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }
  std::uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  /// Waits until the window has closed (or stop was requested), at most
  /// until `deadline`; returns whether it has.
  bool wait_finished(Clock::time_point deadline);
  /// Closes a duration window that no completion closed (a stalled cluster).
  void close_window_at_deadline();

  /// Only once the load thread has stopped.
  LoadFigures figures() const;

 private:
  bool in_window(Clock::time_point done) const;
  bool after_completion(Clock::time_point done);
  void finish(Clock::time_point end);

  const LoadWindow window_;
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<bool> stopping_{false};

  // Load thread only.
  std::uint64_t measured_ = 0;
  LatencyHistogram latency_;
  std::map<std::string, std::uint64_t> error_kinds_;

  mutable std::mutex mutex_;  // guards end_ and wakes the main thread
  std::condition_variable finished_;
  std::optional<Clock::time_point> end_;
};

}  // namespace conflux::bench
