#include "dashboard_snapshot.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "node_api.hpp"

namespace conflux::server {

namespace json = boost::json;

namespace {

constexpr std::size_t log_entries_shown = 12;

json::array log_json(const Node& node) {
  json::array entries;
  for (const auto& entry : node.log_tail(log_entries_shown)) {
    json::value action = nullptr;  // the no-op
    if (!entry.action.empty()) {
      boost::system::error_code ec;
      action = json::parse(entry.action, ec);
      if (ec) action = entry.action;  // shown as text
    }
    entries.push_back({{"index", entry.index},
                       {"term", entry.term},
                       {"committed", entry.committed},
                       {"action", std::move(action)}});
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
