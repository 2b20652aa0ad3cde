#pragma once
// Completion handler for the bench's coroutines: expected I/O outcomes are
// values inside them, so an exception reaching here is a bug worth seeing.

#include <cstdio>
#include <exception>

namespace conflux::bench {

inline void log_unexpected(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conflux-bench: unexpected failure: %s\n", e.what());
  }
}

}  // namespace conflux::bench
