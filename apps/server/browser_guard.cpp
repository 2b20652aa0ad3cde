#include "browser_guard.hpp"

#include <boost/asio/ip/address.hpp>

namespace conflux::server {

namespace {

/// The host part of a Host header ("127.0.0.1:7001" -> "127.0.0.1",
/// "[::1]:7001" -> "::1").
std::string_view host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') return host.substr(1, host.find(']') - 1);
  return host.substr(0, host.rfind(':'));
}

bool names_this_machine(std::string_view host) {
  const std::string name(host_name(host));
  if (name == "localhost") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(name, ec);
  return !ec && address.is_loopback();
}

}  // namespace

std::string foreign_browser_request(std::string_view origin, std::string_view host,
                                    std::string_view scheme, bool loopback_only) {
  if (!origin.empty() &&
      (origin.size() != scheme.size() + 3 + host.size() || !origin.starts_with(scheme) ||
       !origin.ends_with(host) || origin.substr(scheme.size(), 3) != "://" || host.empty())) {
    return "a page of another origin (" + std::string(origin) + ") sent it";
  }
  if (loopback_only && !host.empty() && !names_this_machine(host))
    return "it names the host \"" + std::string(host) + "\", not this machine (DNS rebinding?)";
  return "";
}

}  // namespace conflux::server
