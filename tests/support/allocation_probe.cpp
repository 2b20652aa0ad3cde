#include "support/allocation_probe.hpp"

#include <cstdlib>
#include <new>

namespace {

bool probing = false;
std::size_t allocations = 0;   // counted only while probing
std::size_t largest_seen = 0;  // bytes; updated only while probing

}  // namespace

void* operator new(std::size_t size) {
  if (probing) {
    ++allocations;
    if (size > largest_seen) largest_seen = size;
  }
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void operator delete(void* memory) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}

namespace conflux::test {

AllocationProbe::AllocationProbe() {
  allocations = 0;
  largest_seen = 0;
  probing = true;
}
AllocationProbe::~AllocationProbe() {
  probing = false;
}
std::size_t AllocationProbe::count() const {
  return allocations;
}
std::size_t AllocationProbe::largest() const {
  return largest_seen;
}

}  // namespace conflux::test
