#include "api_replies.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <conflux/raft/types.hpp>

namespace conflux::server {

namespace json = boost::json;

HttpResponse json_response(unsigned status, const json::value& body) {
  return HttpResponse{.status = status,
                      .content_type = "application/json",
                      .body = json::serialize(body),
                      .headers = {}};
}

HttpResponse error(unsigned status, std::string_view code, std::string_view message,
                   bool retryable) {
  return json_response(status, {{"error", message}, {"code", code}, {"retryable", retryable}});
}

HttpResponse method_not_allowed(const std::string& path, std::string_view allowed) {
  auto response = error(405, "method_not_allowed", path + " accepts " + std::string(allowed));
  response.headers.emplace_back("Allow", std::string(allowed));
  return response;
}

std::pair<std::string, std::string> split_target(const std::string& target) {
  const auto mark = target.find('?');
  if (mark == std::string::npos) return {target, ""};
  return {target.substr(0, mark), target.substr(mark + 1)};
}

std::map<std::string, std::string> parameters(const std::string& query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < query.size()) {
    auto end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const auto pair = query.substr(start, end - start);
    const auto equals = pair.find('=');
    if (!pair.empty()) {
      out[pair.substr(0, equals)] = equals == std::string::npos ? "" : pair.substr(equals + 1);
    }
    start = end + 1;
  }
  return out;
}

std::optional<std::uint64_t> integer_in(const std::string& text, std::uint64_t min) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [last, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || last != end || value < min || value > raft::max_wire_integer) {
    return std::nullopt;
  }
  return value;
}

}  // namespace conflux::server
