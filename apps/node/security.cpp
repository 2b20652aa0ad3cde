#include "security.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/tls.hpp>

namespace conflux::daemon {

bool is_loopback(const std::string& address) {
  const auto [host, port] = transport::split_address(address);
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(host, ec);
  return !ec && ip.is_loopback();
}

void warn_of_exposure(const Flags& flags, const LogSink& log) {
  std::vector<std::string> exposures;
  if (flags.channel == "tcp" && !is_loopback(flags.listen) && !flags.tls.enabled()) {
    exposures.push_back("peers connect to " + flags.listen +
                        " without TLS: whoever reaches it can speak as any member and append "
                        "to the log (give --tls-cert, --tls-key and --tls-ca)");
  }
  if (!is_loopback(flags.http) && flags.token.empty()) {
    exposures.push_back("the HTTP API on " + flags.http +
                        " needs no token: whoever reaches it can perform and change the "
                        "membership (give --token-file)");
  }
  if (!is_loopback(flags.http) && !flags.token.empty() && !flags.tls.enabled()) {
    exposures.push_back("the HTTP API on " + flags.http +
                        " is plain HTTP: its token travels in clear (give --tls-cert, --tls-key "
                        "and --tls-ca)");
  }
  if (!flags.ws_hub.empty() && !is_loopback(flags.ws_hub) && flags.token.empty()) {
    exposures.push_back("the hub on " + flags.ws_hub +
                        " needs no token: whoever reaches it can join a cluster under any free "
                        "id (give --token-file)");
  }
  if (!flags.dashboard.empty() && !is_loopback(flags.dashboard) && flags.token.empty()) {
    exposures.push_back("the dashboard on " + flags.dashboard +
                        " needs no token: whoever reaches it can perform (give --token-file)");
  }
  if (flags.channel == "ws" && flags.hub.rfind("ws://", 0) == 0 && !flags.token.empty()) {
    const auto url = transport::parse_hub_url(flags.hub);
    if (!is_loopback(url.host + ":" + url.port)) {
      exposures.push_back("the hub " + flags.hub +
                          " is plain ws://: the token travels in clear (use wss://)");
    }
  }
  for (const auto& [what, address] :
       {std::pair{"hub", flags.ws_hub}, {"dashboard", flags.dashboard}}) {
    if (!address.empty() && !is_loopback(address) && !flags.token.empty() && !flags.tls.enabled()) {
      exposures.push_back(std::string("the ") + what + " on " + address +
                          " is not encrypted: its token travels in clear (give --tls-cert, "
                          "--tls-key and --tls-ca)");
    }
  }
  for (const auto& exposure : exposures) {
    if (flags.insecure) {
      log(LogLevel::info, "--insecure: " + exposure);
    } else {
      log(LogLevel::warning, "INSECURE: " + exposure + ", or --insecure to accept this");
    }
  }
}

std::function<bool(const std::vector<std::string>& ids)> names_a_member(Node& node) {
  return [&node](const std::vector<std::string>& ids) {
    const auto members = node.members();
    for (const auto* group : {&members.voters, &members.learners}) {
      for (const auto& member : *group) {
        if (std::find(ids.begin(), ids.end(), member.id) != ids.end()) return true;
      }
    }
    return false;
  };
}

void reload_on_hangup(boost::asio::signal_set& hangups, const Flags& flags,
                      std::vector<TlsReload> reloads, const LogSink& log) {
  hangups.async_wait([&hangups, &flags, reloads = std::move(reloads), log](
                         const boost::system::error_code& ec, int) mutable {
    if (ec) return;
    if (!flags.tls.enabled()) {
      log(LogLevel::info, "SIGHUP: no TLS files to read again (no --tls-cert)");
      return reload_on_hangup(hangups, flags, std::move(reloads), log);
    }
    auto problem = transport::validate_tls(flags.tls, flags.id);
    // Once the files are good, a listener can fail only if they change
    // again in between: the next SIGHUP then brings them all in line.
    for (const auto& reload : reloads) {
      if (problem.empty()) problem = reload();
    }
    if (problem.empty()) {
      log(LogLevel::info, "SIGHUP: TLS files read again; new connections use them");
    } else {
      log(LogLevel::error, "SIGHUP: TLS not reloaded, the certificates in use stay: " + problem);
    }
    reload_on_hangup(hangups, flags, std::move(reloads), log);
  });
}

}  // namespace conflux::daemon
