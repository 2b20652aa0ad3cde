#pragma once
// A counter of the objects alive in some phase: each guard adds one while
// it lives (the mesh's and the hub's connections that have not yet said
// hello, say, so that a flood of them can be refused at once).

#include <cstddef>

namespace conflux::transport::detail {

class ScopedCount {
 public:
  explicit ScopedCount(std::size_t& count) : count_(count) { ++count_; }
  ~ScopedCount() { --count_; }
  ScopedCount(const ScopedCount&) = delete;
  ScopedCount& operator=(const ScopedCount&) = delete;

 private:
  std::size_t& count_;
};

}  // namespace conflux::transport::detail
