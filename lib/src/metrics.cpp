#include <algorithm>
#include <conflux/metrics.hpp>

namespace conflux {

void Histogram::observe(double seconds) {
  const auto bound = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  ++buckets_[static_cast<std::size_t>(bound - bounds.begin())];
  ++count_;
  sum_ += seconds;
}

}  // namespace conflux
