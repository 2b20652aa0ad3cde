#pragma once
// conflux-node's security posture (docs/operations.md, "Security"): loud
// warnings at start for what a stranger on the network could do, and the
// reload of the TLS files on SIGHUP.

#include <boost/asio/signal_set.hpp>
#include <conflux/node.hpp>
#include <string>

#include "flags.hpp"
#include "http_server.hpp"

namespace conflux::daemon {

/// Whether `address` ("host:port") is on this machine only.
bool is_loopback(const std::string& address);

/// One warning per listener beyond loopback that a stranger could use:
/// peers without TLS (they may speak as any member), the HTTP API without
/// a token (anyone may perform) or without TLS (the token travels in
/// clear). With --insecure, one line at info instead: it was asked for.
void warn_of_exposure(const Flags& flags, const LogSink& log);

/// Reads the TLS files again on each SIGHUP that `hangups` receives, for
/// the peer mesh and the HTTP API, and logs the outcome; until `hangups`
/// is cancelled.
void reload_on_hangup(boost::asio::signal_set& hangups, Node& node, server::HttpServer& http,
                      const LogSink& log);

}  // namespace conflux::daemon
