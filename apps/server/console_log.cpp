#include "console_log.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace conflux::server {

namespace {

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  std::array<char, 40> text{};
  const auto n = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%S", &parts);
  std::snprintf(text.data() + n, text.size() - n, ".%03dZ", static_cast<int>(millis));
  return text.data();
}

}  // namespace

LogSink console_log(LogLevel threshold, std::string tag) {
  return [threshold, tag = std::move(tag)](LogLevel level, std::string_view line) {
    if (level > threshold) return;
    const auto name = to_string(level);
    std::fprintf(stderr, "%s %-7.*s [%s] %.*s\n", utc_now().c_str(), static_cast<int>(name.size()),
                 name.data(), tag.c_str(), static_cast<int>(line.size()), line.data());
  };
}

}  // namespace conflux::server
