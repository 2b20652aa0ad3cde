#pragma once
// One request to one node's HTTP API (client/http_exchange.hpp), run to
// completion on an io_context of its own: conflux-ctl asks one thing at a
// time.

#include <chrono>
#include <string>
#include <utility>

#include "ctl_flags.hpp"
#include "http_exchange.hpp"

namespace conflux::ctl {

using Request = client::HttpCall;
using Reply = client::HttpAnswer;

/// The endpoint's scheme and "host:port": "https://a:1" -> {true, "a:1"};
/// without a scheme, HTTPS when an authority is given. Throws
/// cli::FlagError for an endpoint without a port.
std::pair<bool, std::string> parse_endpoint(const std::string& endpoint, bool default_tls);

/// Sends `request` to `endpoint` and reads the answer, within `timeout`.
/// Over HTTPS the node's certificate must be of `connection.authority` (it
/// names a node id, not a host, so no host name is checked).
Reply exchange(const Connection& connection, const std::string& endpoint, const Request& request,
               std::chrono::milliseconds timeout);

}  // namespace conflux::ctl
