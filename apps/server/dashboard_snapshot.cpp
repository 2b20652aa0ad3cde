#include "dashboard_snapshot.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "node_api.hpp"

namespace conflux::server {

namespace json = boost::json;

namespace {

constexpr std::size_t log_entries_shown = 12;

/// The JSON in `text`, or the text itself as a string if it does not parse.
json::value parsed(const std::string& text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  return ec ? json::value(text) : value;
}

json::array log_json(const Node& node) {
  json::array entries;
  for (const auto& entry : node.log_tail(log_entries_shown)) {
    json::object shown{{"index", entry.index},
                       {"term", entry.term},
                       {"committed", entry.committed},
                       {"action", entry.action.empty() ? json::value() : parsed(entry.action)}};
    if (!entry.configuration.empty()) shown["configuration"] = parsed(entry.configuration);
    entries.push_back(std::move(shown));
  }
  return entries;
}

json::object node_json(const DashboardNode& shown) {
  json::object out{{"id", shown.id}, {"http", shown.http_url}, {"running", shown.node != nullptr}};
  if (!shown.node) return out;
  out["status"] = status_json(shown.node->status());
  out["log"] = log_json(*shown.node);
  out["state"] = shown.node->state();
  out["provisional"] = shown.node->provisional_state();
  out["members"] = members_json(shown.node->members());
  return out;
}

}  // namespace

std::string snapshot_json(DashboardSource& source) {
  json::array nodes;
  for (const auto& shown : source.nodes()) nodes.push_back(node_json(shown));
  return json::serialize(json::object{
      {"type", "snapshot"}, {"controls", source.has_controls()}, {"nodes", std::move(nodes)}});
}

std::string reply_json(std::int64_t id, const json::value& result) {
  return json::serialize(
      json::object{{"type", "reply"}, {"id", id}, {"ok", true}, {"result", result}});
}

std::string reply_json(std::int64_t id, const std::string& error, const std::string& code) {
  return json::serialize(
      json::object{{"type", "reply"}, {"id", id}, {"ok", false}, {"error", error}, {"code", code}});
}

std::string reply_json(std::int64_t id, std::exception_ptr failure, const json::value& result) {
  if (!failure) return reply_json(id, result);
  try {
    std::rethrow_exception(failure);
  } catch (const Error& error) {
    return reply_json(id, error.what(), std::string(to_string(error.code())));
  } catch (const std::exception& error) {
    return reply_json(id, error.what(), "internal");
  }
}

}  // namespace conflux::server
