#pragma once
// A small seeded generator whose output is identical under every standard
// library (libstdc++, libc++ in WebAssembly), so a seed replays exactly.
// std::uniform_int_distribution is deliberately not used: implementations
// draw differently.

#include <cstdint>

namespace conflux::raft {

/// SplitMix64 (Steele, Lea & Flood 2014): 64-bit state, full period, good
/// enough statistics for timeouts and simulations.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  /// Uniform integer in [lo, hi] (inclusive), by rejection sampling so that
  /// no value is favoured. Precondition: lo <= hi.
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
    const std::uint64_t span = hi - lo;
    if (span == UINT64_MAX) return next();
    const std::uint64_t range = span + 1;
    const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % range);
    std::uint64_t x = next();
    while (x >= limit) x = next();
    return lo + x % range;
  }

  /// True with probability numerator / denominator.
  bool chance(std::uint64_t numerator, std::uint64_t denominator) {
    return uniform(0, denominator - 1) < numerator;
  }

 private:
  std::uint64_t state_;
};

}  // namespace conflux::raft
