#pragma once
// Logging that a flood cannot flood: the relays', the hub's and the mesh's
// refusals and drops.

#include <chrono>
#include <cstdint>
#include <string>

namespace conflux::transport {

/// Whoever may publish on a relay, or connect to a hub, may flood it: what
/// a flood causes (dropped messages, refused connections) is logged at most
/// `per_second` lines in each second; the first line after a quiet spell
/// says how many went unlogged.
class LimitedLog {
 public:
  static constexpr int per_second = 10;
  /// The line to log for `text`, or "" to stay quiet.
  std::string line(const std::string& text, std::chrono::steady_clock::time_point now);

 private:
  std::chrono::steady_clock::time_point window_{};  // when this second began
  int logged_ = 0;                                  // lines in this second
  std::uint64_t quiet_ = 0;                         // drops not logged since the last line
};

}  // namespace conflux::transport
