#pragma once
// Watches heap allocations: while a probe is alive, the test binary's
// replaced operator new (allocation_probe.cpp) counts allocations and
// remembers the largest. Used to prove that parsers never allocate what a
// frame or record merely announces. One probe at a time, one thread.

#include <cstddef>

namespace conflux::test {

class AllocationProbe {
 public:
  AllocationProbe();
  ~AllocationProbe();
  AllocationProbe(const AllocationProbe&) = delete;
  AllocationProbe& operator=(const AllocationProbe&) = delete;

  std::size_t count() const;
  std::size_t largest() const;
};

}  // namespace conflux::test
