#pragma once
// Requests that a browser makes on behalf of a page of another site. Such a
// page cannot read our answers (we send no CORS headers), but a "simple"
// POST still runs, so a hostile site open in an operator's browser could
// perform on a node the browser can reach, even one on loopback. Two
// checks stop it:
// - Origin: browsers name the page's origin on every POST (and on
//   cross-origin requests of any kind); it must be this server's own.
// - Host, on a server listening on loopback only: a DNS-rebinding site
//   reaches 127.0.0.1 under its own name, which a browser puts in Host;
//   only this machine's names are served.
// Clients that are not browsers (curl, conflux-bench, the nodes) send no
// Origin and pass. Both checks apply only where no token is required: a
// page of another site cannot present the token (we never allow CORS), so
// there the token guards, and a reverse proxy in front of such a server
// needs no special Host or Origin.

#include <string>
#include <string_view>

namespace conflux::server {

/// Why a request with these Origin and Host headers ("" when absent) looks
/// like a browser's on behalf of another site, or "". `scheme` is "http"
/// or "https"; `loopback_only` whether the connection came in on a
/// loopback address (per connection: a wildcard listener is reached on
/// 127.0.0.1 too). The HTTP API and the dashboard ask it of every request
/// when they require no token.
std::string foreign_browser_request(std::string_view origin, std::string_view host,
                                    std::string_view scheme, bool loopback_only);

}  // namespace conflux::server
