#pragma once
// A strict reader of the Prometheus text exposition format 0.0.4, for
// checking what GET /metrics serves. It rejects what Prometheus would
// reject and more: every sample must belong to a family declared by a TYPE
// line before it, a family's lines must be contiguous, counters must not be
// negative, and histograms must have cumulative buckets ending with
// le="+Inf" equal to _count.

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::test {

struct PrometheusSample {
  std::string name;  ///< as written, e.g. conflux_x_bucket
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct MetricFamily {
  std::string name;
  std::string type;  ///< counter, gauge, histogram, summary or untyped
  std::string help;
  std::vector<PrometheusSample> samples;

  /// The value of the sample called `sample_name` with exactly `labels`;
  /// throws std::out_of_range when there is none.
  double value(const std::string& sample_name,
               const std::map<std::string, std::string>& labels = {}) const;
};

/// Thrown with the line number and the rule broken.
class ExpositionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Families by name. Throws ExpositionError.
std::map<std::string, MetricFamily> parse_prometheus_text(std::string_view text);

}  // namespace conflux::test
