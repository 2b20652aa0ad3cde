#pragma once
// Waiting on a condition with a deadline, never sleeping: runs the
// io_context's handlers until `done()` holds or `timeout` passes.

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace conflux::test {

template <class Predicate>
bool run_until(boost::asio::io_context& io, Predicate done,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_one_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace conflux::test
