#include <algorithm>
#include <conflux/transport/link_settings.hpp>
#include <stdexcept>

namespace conflux::transport {

void validate(const LinkSettings& settings) {
  if (settings.backoff_min.count() <= 0 || settings.backoff_max < settings.backoff_min)
    throw std::invalid_argument("\"backoff_min\" must be positive and at most \"backoff_max\"");
}

std::chrono::milliseconds next_backoff(const LinkSettings& settings,
                                       std::chrono::milliseconds& backoff, raft::Random& random) {
  const auto wait = backoff * static_cast<std::int64_t>(random.uniform(50, 100)) / 100;
  backoff = std::min(backoff * 2, settings.backoff_max);
  return wait;
}

}  // namespace conflux::transport
