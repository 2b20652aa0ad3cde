#pragma once
// Network addresses as users write them: "host:port", or "[v6]:port".

#include <string>
#include <utility>

namespace conflux::transport {

/// Splits "host:port" (or "[v6]:port") into host and port. Throws
/// std::invalid_argument naming the address when it has no host or port.
std::pair<std::string, std::string> split_address(const std::string& address);

}  // namespace conflux::transport

namespace conflux::transport {

/// A hub URL: ws://host:port/<cluster>.
struct HubUrl {
  std::string host;
  std::string port;
  std::string cluster;
  bool secure = false;  ///< wss://
};

/// Throws std::invalid_argument naming the URL when it is not
/// ws://host:port/<cluster> or wss://host:port/<cluster> (a non-empty
/// cluster without '/', '?' or '#').
HubUrl parse_hub_url(const std::string& url);

}  // namespace conflux::transport
