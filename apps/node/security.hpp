#pragma once
// conflux-node's security posture (docs/operations.md, "Security"): loud
// warnings at start for what a stranger on the network could do, and the
// reload of the TLS files on SIGHUP.

#include <boost/asio/signal_set.hpp>
#include <conflux/node.hpp>
#include <functional>
#include <string>
#include <vector>

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

/// For the HTTP API: a client certificate stands for the token when it
/// names a current member (a voter or a learner), so that removing a
/// member also withdraws the trust its certificate had.
std::function<bool(const std::vector<std::string>& ids)> names_a_member(Node& node);

/// One listener's reload of the TLS files: "" once done, else why not.
using TlsReload = std::function<std::string()>;

/// On each SIGHUP that `hangups` receives, until it is cancelled: checks
/// flags.tls's files first and, only if they are good, reloads every
/// listener (the peer mesh, the HTTP API, the hub, the dashboard), so that
/// a bad file leaves all of them on the certificates in use rather than
/// some on the old and some on the new. Logs the outcome.
void reload_on_hangup(boost::asio::signal_set& hangups, const Flags& flags,
                      std::vector<TlsReload> reloads, const LogSink& log);

}  // namespace conflux::daemon
