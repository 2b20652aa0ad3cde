#pragma once
// Network addresses as users write them: "host:port", or "[v6]:port".

#include <string>
#include <utility>

namespace conflux::transport {

/// Splits "host:port" (or "[v6]:port") into host and port. Throws
/// std::invalid_argument naming the address when it has no host or port.
std::pair<std::string, std::string> split_address(const std::string& address);

}  // namespace conflux::transport
