#include <conflux/transport/address.hpp>
#include <stdexcept>

namespace conflux::transport {

std::pair<std::string, std::string> split_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    throw std::invalid_argument("address \"" + address + "\" is not host:port");
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {host, address.substr(colon + 1)};
}

}  // namespace conflux::transport

namespace conflux::transport {

HubUrl parse_hub_url(const std::string& url) {
  const bool secure = url.rfind("wss://", 0) == 0;
  const std::string scheme = secure ? "wss://" : "ws://";
  const auto bad = [&] {
    return std::invalid_argument("hub URL \"" + url +
                                 "\" is not ws://host:port/<cluster> or wss://host:port/<cluster>");
  };
  if (url.rfind(scheme, 0) != 0) throw bad();
  const auto slash = url.find('/', scheme.size());
  if (slash == std::string::npos) throw bad();
  const auto cluster = url.substr(slash + 1);
  if (cluster.empty() || cluster.find_first_of("/?#") != std::string::npos) throw bad();
  try {
    auto [host, port] = split_address(url.substr(scheme.size(), slash - scheme.size()));
    return HubUrl{std::move(host), std::move(port), cluster, secure};
  } catch (const std::invalid_argument&) {
    throw bad();
  }
}

}  // namespace conflux::transport
