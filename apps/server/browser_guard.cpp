#include "browser_guard.hpp"

#include <boost/asio/ip/address.hpp>
#include <cctype>

namespace conflux::server {

namespace {

bool is_loopback_address(std::string_view text) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(text), ec);
  return !ec && address.is_loopback();
}

/// "localhost", "LocalHost.", "app.localhost" (rfc 6761: always loopback).
bool is_localhost(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "localhost" || name.ends_with(".localhost");
}

/// Whether a Host header ("127.0.0.1:7001", "[::1]:7001", "localhost", a
/// bare "::1") names this machine.
bool names_this_machine(std::string_view host) {
  if (is_loopback_address(host)) return true;  // a bare address, IPv6 included
  if (!host.empty() && host.front() == '[')
    return is_loopback_address(host.substr(1, host.find(']') - 1));
  const auto name = host.substr(0, host.rfind(':'));
  return is_loopback_address(name) || is_localhost(std::string(name));
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
