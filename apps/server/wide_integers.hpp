#pragma once
// Boost.JSON reads an integer beyond 64 bits as a double, silently:
// 123456789012345678901234567890 becomes 1.2345678901234568E29. The HTTP
// API refuses such a body instead, so that a client never sees a different
// number committed from the one it sent.

#include <optional>
#include <string>
#include <string_view>

namespace conflux::server {

/// The first integer literal in `json` (outside strings) that fits neither
/// int64 nor uint64, or nullopt. Precondition: `json` is valid JSON.
std::optional<std::string> first_wide_integer(std::string_view json);

}  // namespace conflux::server
