#include "load_recorder.hpp"

namespace conflux::bench {

bool LoadRecorder::on_success(Clock::time_point sent, Clock::time_point done) {
  completed_.fetch_add(1, std::memory_order_relaxed);
  if (in_window(done)) {
    ++measured_;
    latency_.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(done - sent).count()));
    if (window_.count && measured_ == *window_.count) finish(done);
  }
  return after_completion(done);
}

bool LoadRecorder::on_error(std::string_view kind, Clock::time_point done) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  if (in_window(done)) ++error_kinds_[std::string(kind)];
  return after_completion(done);
}

bool LoadRecorder::in_window(Clock::time_point done) const {
  return done >= window_.measure_from &&
         (!window_.measure_until || done < *window_.measure_until) &&
         (!window_.count || measured_ < *window_.count);
}

bool LoadRecorder::after_completion(Clock::time_point done) {
  if (window_.measure_until && done >= *window_.measure_until) finish(*window_.measure_until);
  return !stopping();
}

void LoadRecorder::finish(Clock::time_point end) {
  {
    std::lock_guard lock(mutex_);
    if (!end_) end_ = end;
  }
  request_stop();
}

void LoadRecorder::request_stop() {
  {
    std::lock_guard lock(mutex_);  // so that a waiter cannot miss the wake-up
    stopping_.store(true, std::memory_order_relaxed);
  }
  finished_.notify_all();
}

bool LoadRecorder::wait_finished(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return finished_.wait_until(lock, deadline, [this] { return end_ || stopping(); });
}

void LoadRecorder::close_window_at_deadline() {
  if (window_.measure_until) finish(*window_.measure_until);
}

LoadFigures LoadRecorder::figures() const {
  LoadFigures figures;
  figures.actions = measured_;
  figures.latency = latency_;
  figures.errors = error_kinds_;
  figures.errors_total = errors();
  std::lock_guard lock(mutex_);
  if (end_ && *end_ > window_.measure_from)
    figures.seconds = std::chrono::duration<double>(*end_ - window_.measure_from).count();
  return figures;
}

}  // namespace conflux::bench
