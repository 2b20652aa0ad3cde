#pragma once
// The pieces every route of the node's HTTP API shares: JSON answers, the
// error shape {"error", "code", "retryable"}, and reading a target's query.

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "http_server.hpp"

namespace conflux::server {

HttpResponse json_response(unsigned status, const boost::json::value& body);
/// {"error": message, "code": code, "retryable": retryable}.
HttpResponse error(unsigned status, std::string_view code, std::string_view message,
                   bool retryable = false);
/// 405 naming the verbs `path` accepts (also in an Allow header).
HttpResponse method_not_allowed(const std::string& path, std::string_view allowed);

/// Splits a target into its path and its query (without the '?').
std::pair<std::string, std::string> split_target(const std::string& target);
/// A query string's parameters ("a=1&b=2"); a name without '=' maps to "".
std::map<std::string, std::string> parameters(const std::string& query);
/// A decimal integer from `min` to 2^53-1 (what JSON peers read exactly),
/// or nullopt.
std::optional<std::uint64_t> integer_in(const std::string& text, std::uint64_t min);

}  // namespace conflux::server
