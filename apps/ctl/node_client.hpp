#pragma once
// One request to one node's HTTP API, on a fresh connection (HTTP or
// HTTPS), with a deadline. Kept free of Asio so that the commands' code
// compiles without it.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "ctl_flags.hpp"

namespace conflux::ctl {

struct Request {
  std::string method;  ///< "GET", "POST", "DELETE"
  std::string target;  ///< "/status", "/query/get?consistency=linearizable"
  std::string body = {};
  std::vector<std::pair<std::string, std::string>> headers = {};
};

struct Reply {
  enum class Reach {
    not_sent,  ///< never reached the node (resolve, connect or TLS failed): nothing happened
    sent,      ///< sent, and no answer came: it may or may not have happened
    answered,
  };
  Reach reach = Reach::not_sent;
  unsigned status = 0;  ///< when answered
  std::string body;     ///< when answered
  std::string problem;  ///< when not answered: what went wrong
};

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
