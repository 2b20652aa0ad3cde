// conflux-ctl watch: follows the commits through GET /log, long polling.
// Every node of a cluster holds the same committed entries at the same
// indexes (Raft's Log Matching property), so failing over to another
// endpoint and asking for the entries after the last one printed neither
// misses nor repeats one.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>
#include <optional>
#include <variant>

#include "commands.hpp"
#include "table.hpp"

namespace conflux::ctl {
namespace {

namespace json = boost::json;

constexpr std::uint64_t wait_ms = 10'000;  ///< each poll's wait for a commit

/// Where to start: --from, else the commit index of the first endpoint that
/// answers /status (the next commit is the first entry printed).
std::variant<std::uint64_t, Outcome> starting_index(const CtlFlags& flags, Cluster& cluster) {
  if (flags.from) return *flags.from;
  auto outcome = cluster.ask({"GET", "/status"});
  if (!outcome.answered || outcome.reply.status != 200) return outcome;
  boost::system::error_code ec;
  const auto status = json::parse(outcome.reply.body, ec);
  const auto* commit =
      !ec && status.is_object() ? status.get_object().if_contains("commit") : nullptr;
  if (!commit || !commit->is_number()) return outcome;
  return commit->to_number<std::uint64_t>();
}

/// Prints one entry if it carries an action or a membership change; whether
/// it did.
bool print_entry(const json::object& entry, const Console& console) {
  const auto* action = entry.if_contains("action");
  const auto* configuration = entry.if_contains("configuration");
  const bool carries = (action && !action->is_null()) || configuration;
  if (!carries) return false;
  if (console.output == Output::json) {
    console.out << json::serialize(entry) << '\n';
  } else {
    console.out << plain(entry.at("index")) << '\t'
                << (configuration ? "configuration " + json::serialize(*configuration)
                                  : json::serialize(*action))
                << '\n';
  }
  console.out.flush();
  return true;
}

/// The entries of a GET /log answer, checked: objects whose indexes follow
/// `after` in increasing order; nullopt for anything else.
std::optional<json::array> entries_in(const std::string& body, std::uint64_t after) {
  boost::system::error_code ec;
  auto parsed = json::parse(body, ec);
  auto* entries = !ec && parsed.is_object() ? parsed.get_object().if_contains("entries") : nullptr;
  if (!entries || !entries->is_array()) return std::nullopt;
  for (const auto& entry : entries->get_array()) {
    const auto* index = entry.is_object() ? entry.get_object().if_contains("index") : nullptr;
    if (!index || !index->is_number()) return std::nullopt;
    const auto value = index->to_number<std::uint64_t>(ec);
    if (ec || value <= after) return std::nullopt;
    after = value;
  }
  return std::move(entries->get_array());
}

}  // namespace

int watch(const CtlFlags& flags, Cluster& cluster, const Console& console) {
  const auto start = starting_index(flags, cluster);
  if (const auto* failed = std::get_if<Outcome>(&start)) return report_failure(*failed, console);
  auto after = std::get<std::uint64_t>(start);
  std::uint64_t printed = 0;
  std::size_t compacted = 0;  // endpoints in a row that no longer hold the entries
  auto connection = cluster.connection();
  connection.timeout += std::chrono::milliseconds(wait_ms);  // each poll may wait that long
  Cluster polling(connection);
  while (!flags.count || printed < *flags.count) {
    const auto target =
        "/log?after=" + std::to_string(after) + "&wait_ms=" + std::to_string(wait_ms);
    const auto outcome = polling.ask({"GET", target});
    if (outcome.answered && outcome.reply.status == 410 &&
        ++compacted < connection.endpoints.size()) {
      polling.move_on();  // another node may have compacted less
      continue;
    }
    if (!outcome.answered || outcome.reply.status != 200) return report_failure(outcome, console);
    compacted = 0;
    const auto entries = entries_in(outcome.reply.body, after);
    if (!entries) {
      console.err << "conflux-ctl: " << outcome.endpoint << " answered " << outcome.reply.body
                  << '\n';
      return refused;
    }
    // None for a whole wait: the cluster is idle, or this node is cut off
    // from it; the next poll asks another.
    if (entries->empty()) polling.move_on();
    for (const auto& entry : *entries) {
      if (flags.count && printed == *flags.count) break;
      if (print_entry(entry.as_object(), console)) ++printed;
      after = entry.at("index").to_number<std::uint64_t>();
    }
  }
  return success;
}

}  // namespace conflux::ctl
