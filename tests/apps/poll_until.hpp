#pragma once
// Waiting on a condition with a deadline across processes. The daemons run
// elsewhere, so there is no io_context to drive as in
// transport/run_until.hpp: the condition is polled, with a short pause
// between polls so that the test does not starve the nodes of CPU.

#include <chrono>
#include <thread>

namespace conflux::test {

template <class Predicate>
bool poll_until(Predicate done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
  return true;
}

}  // namespace conflux::test
