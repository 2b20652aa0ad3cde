#include "latency.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace conflux::bench {

namespace {

// Values below 2·sub_buckets are counted exactly; above, the top 8
// significant bits pick the bucket, so a bucket is at most 1/128 of its
// lowest value wide and its midpoint is within 1/256 of any value in it.
constexpr std::size_t sub_buckets = 128;
constexpr std::size_t exact = 2 * sub_buckets;
constexpr std::size_t bucket_count = exact + (64 - 8) * sub_buckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(bucket_count, 0) {}

std::size_t LatencyHistogram::bucket_of(std::uint64_t value) {
  if (value < exact) return static_cast<std::size_t>(value);
  const auto shift = static_cast<std::size_t>(std::bit_width(value)) - 8;  // >= 1
  const auto top = static_cast<std::size_t>(value >> shift);               // 128..255
  return exact + (shift - 1) * sub_buckets + (top - sub_buckets);
}

std::uint64_t LatencyHistogram::bucket_low(std::size_t bucket) {
  if (bucket < exact) return bucket;
  const auto k = bucket - exact;
  const auto shift = k / sub_buckets + 1;
  return static_cast<std::uint64_t>(k % sub_buckets + sub_buckets) << shift;
}

std::uint64_t LatencyHistogram::bucket_width(std::size_t bucket) {
  if (bucket < exact) return 1;
  return std::uint64_t{1} << ((bucket - exact) / sub_buckets + 1);
}

void LatencyHistogram::record(std::uint64_t nanoseconds) {
  ++counts_[bucket_of(nanoseconds)];
  ++count_;
  max_ = std::max(max_, nanoseconds);
  sum_ += static_cast<double>(nanoseconds);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0 : sum_ / static_cast<double>(count_);
}

std::uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const auto wanted = static_cast<double>(count_) * std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(wanted)));
  if (rank >= count_) return max_;  // the largest sample is known exactly
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(max_, bucket_low(i) + bucket_width(i) / 2);
  }
  return max_;
}

}  // namespace conflux::bench
