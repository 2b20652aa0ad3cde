#include "limited_log.hpp"

#include <utility>

namespace conflux::transport {

std::string LimitedLog::line(const std::string& text, std::chrono::steady_clock::time_point now) {
  if (now - window_ >= std::chrono::seconds(1)) {
    window_ = now;
    logged_ = 0;
  }
  if (logged_ == per_second) {
    ++quiet_;
    return "";
  }
  ++logged_;
  if (quiet_ == 0) return text;
  return text + " (" + std::to_string(std::exchange(quiet_, 0)) + " more were not logged)";
}

}  // namespace conflux::transport
