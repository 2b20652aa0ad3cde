#pragma once
// A latency histogram in the spirit of HdrHistogram: powers of two split
// into 128 linear sub-buckets. Every value is reported within 1/256
// (< 0.4 %) of what was recorded, in constant memory (58 KiB) however many
// samples a run takes; a vector of every sample would grow by 8 bytes per
// action.

#include <cstdint>
#include <vector>

namespace conflux::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(std::uint64_t nanoseconds);
  void merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }  ///< exact
  double mean() const;
  /// The value below or at which a fraction `q` (0..1) of the samples lie:
  /// the midpoint of the bucket holding the sample of rank ceil(q·count),
  /// never above max(); max() itself for the last rank. 0 when empty.
  std::uint64_t quantile(double q) const;

  /// Bucket arithmetic, exposed for the tests.
  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_low(std::size_t bucket);
  static std::uint64_t bucket_width(std::size_t bucket);

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace conflux::bench
