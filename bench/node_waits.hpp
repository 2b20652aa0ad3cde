#pragma once
// Waiting on nodes that run in the bench's own io_context: for a condition
// with a deadline, and for a leader.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <conflux/node.hpp>
#include <memory>
#include <vector>

namespace conflux::bench {

/// Runs `io` until `done()` or `limit`; false on timeout.
template <class Done>
bool run_until(boost::asio::io_context& io, Done done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// The index of a node that reports itself leader, or -1.
inline int leader_index(const std::vector<std::unique_ptr<Node>>& nodes) {
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i]->status().role == "leader") return static_cast<int>(i);
  }
  return -1;
}

}  // namespace conflux::bench
