#include "commands.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <functional>
#include <thread>
#include <variant>

#include "table.hpp"

namespace conflux::ctl {
namespace {

namespace json = boost::json;

json::value parse_or_null(const std::string& text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  return ec ? json::value(nullptr) : value;
}

/// A perform's argument: JSON when it parses as JSON, else a string.
json::value argument(const std::string& text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  return ec ? json::value(text) : value;
}

bool succeeded(const Outcome& outcome) {
  return outcome.answered && outcome.reply.status >= 200 && outcome.reply.status < 300;
}

/// The query string of a read: linearizable unless --consistency local.
std::string consistency(const CtlFlags& flags) {
  return flags.linearizable ? "?consistency=linearizable" : "";
}

/// Prints the answer's body as it is for -o json; else `table` prints it.
int answer(const Outcome& outcome, const Console& console,
           const std::function<void(const json::value&)>& table) {
  if (!succeeded(outcome)) return report_failure(outcome, console);
  if (console.output == Output::json) {
    console.out << outcome.reply.body << '\n';
  } else {
    table(parse_or_null(outcome.reply.body));
  }
  return success;
}

int status(Cluster& cluster, const Console& console) {
  std::vector<Row> rows;
  json::array all;
  bool any = false;
  for (const auto& endpoint : cluster.connection().endpoints) {
    const auto outcome = cluster.ask_one(endpoint, {"GET", "/status"});
    if (succeeded(outcome)) {
      any = true;
      const auto s = parse_or_null(outcome.reply.body);
      const auto field = [&](const char* name) {
        const auto* v = s.is_object() ? s.get_object().if_contains(name) : nullptr;
        return v ? plain(*v) : std::string();
      };
      rows.push_back({endpoint, field("id"), field("role"), field("term"), field("leader"),
                      field("commit"), field("applied"), field("error")});
      all.push_back({{"endpoint", endpoint}, {"status", s}});
    } else {
      const auto why = outcome.answered ? outcome.reply.body : outcome.reply.problem;
      rows.push_back({endpoint, "", "", "", "", "", "", why});
      all.push_back({{"endpoint", endpoint}, {"error", why}});
    }
  }
  if (console.output == Output::json) {
    console.out << json::serialize(all) << '\n';
  } else {
    print_table(console.out,
                {"ENDPOINT", "ID", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "ERROR"}, rows);
  }
  return any ? success : unavailable;
}

int perform(const CtlFlags& flags, Cluster& cluster, const Console& console) {
  json::array args;
  for (std::size_t i = 1; i < flags.args.size(); ++i) args.push_back(argument(flags.args[i]));
  return answer(cluster.perform(flags.args[0], args), console, [&](const json::value& body) {
    const auto* result = body.is_object() ? body.get_object().if_contains("result") : nullptr;
    console.out << json::serialize(result ? *result : body) << '\n';
  });
}

int put(const CtlFlags& flags, Cluster& cluster, const Console& console) {
  const json::array args{json::value(flags.args[0]), json::value(flags.args[1])};
  return answer(cluster.perform("put", args), console,
                [&](const json::value&) { console.out << "OK\n"; });
}

int get(const CtlFlags& flags, Cluster& cluster, const Console& console) {
  if (flags.args.empty()) {
    const auto outcome = cluster.ask({"GET", "/state" + consistency(flags)});
    return answer(outcome, console, [&](const json::value& state) {
      if (!state.is_object()) {
        console.out << json::serialize(state) << '\n';
        return;
      }
      std::vector<Row> rows;
      for (const auto& [key, value] : state.get_object()) rows.push_back({key, plain(value)});
      print_table(console.out, {"KEY", "VALUE"}, rows);
    });
  }
  const json::array key{json::value(flags.args[0])};
  const auto outcome =
      cluster.ask({"POST", "/query/get" + consistency(flags), json::serialize(key)});
  return answer(outcome, console, [&](const json::value& body) {
    const auto* result = body.is_object() ? body.get_object().if_contains("result") : nullptr;
    if (result && !result->is_null()) console.out << plain(*result) << '\n';
  });
}

int state(const CtlFlags& flags, Cluster& cluster, const Console& console) {
  const auto target =
      flags.provisional ? std::string("/state?provisional=true") : "/state" + consistency(flags);
  return answer(cluster.ask({"GET", target}), console,
                [&](const json::value& body) { console.out << json::serialize(body) << '\n'; });
}

int members(Cluster& cluster, const Console& console) {
  return answer(cluster.ask({"GET", "/members"}), console, [&](const json::value& body) {
    std::vector<Row> rows;
    const auto list = [&](const char* name) {
      const auto* found = body.is_object() ? body.get_object().if_contains(name) : nullptr;
      return found && found->is_array() ? found->get_array() : json::array{};
    };
    for (const auto& voter : list("voters"))
      rows.push_back({plain(voter.at("id")), plain(voter.at("address")), "voter"});
    for (const auto& learner : list("learners"))
      rows.push_back({plain(learner.at("id")), plain(learner.at("address")), "learner"});
    for (const auto& leaving : list("outgoing")) {
      const auto id = plain(leaving);
      const bool kept =
          std::any_of(rows.begin(), rows.end(), [&](const Row& r) { return r[0] == id; });
      if (!kept) rows.push_back({id, "", "voter (leaving)"});
    }
    print_table(console.out, {"ID", "ADDRESS", "ROLE"}, rows);
  });
}

bool names_member(const json::value& members, const char* role, const std::string& id) {
  const auto* list = members.is_object() ? members.get_object().if_contains(role) : nullptr;
  if (!list || !list->is_array()) return false;
  return std::any_of(list->get_array().begin(), list->get_array().end(), [&](const auto& peer) {
    return peer.is_object() && peer.get_object().if_contains("id") && plain(peer.at("id")) == id;
  });
}

/// Whether one endpoint shows the change of `flags` made: `id` no member
/// of a committed configuration (remove), a voter in one (promote), or the
/// leader (transfer). A committed configuration on any node is the cluster's.
bool shows_change(const CtlFlags& flags, Cluster& cluster, const std::string& endpoint) {
  const auto& id = flags.args[0];
  const bool transfer = flags.command == "transfer";
  const auto outcome = cluster.ask_one(endpoint, {"GET", transfer ? "/status" : "/members"});
  if (!succeeded(outcome)) return false;
  const auto body = parse_or_null(outcome.reply.body);
  if (!body.is_object()) return false;
  if (transfer) {
    const auto* leader = body.get_object().if_contains("leader");
    return leader && plain(*leader) == id;
  }
  const auto* committed = body.get_object().if_contains("committed");
  if (!committed || *committed != json::value(true)) return false;
  if (flags.command == "promote") return names_member(body, "voters", id);
  return !names_member(body, "voters", id) && !names_member(body, "learners", id);
}

/// After an unknown outcome (the node asked died, or answered 504): asks
/// the endpoints, for up to --timeout, whether the change was made.
bool settled(const CtlFlags& flags, Cluster& cluster) {
  const auto deadline = std::chrono::steady_clock::now() + cluster.connection().timeout;
  do {
    for (const auto& endpoint : cluster.connection().endpoints) {
      if (shows_change(flags, cluster, endpoint)) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

/// add, remove, promote, transfer: "OK" once the change is committed.
int change_membership(const CtlFlags& flags, Cluster& cluster, const Console& console) {
  const auto& c = flags.command;
  const auto& id = flags.args[0];
  Outcome outcome;
  if (c == "add") {
    const json::object body{{"id", id}, {"address", flags.args[1]}, {"learner", flags.learner}};
    outcome = cluster.ask({"POST", "/members", json::serialize(body)});  // idempotent
  } else if (c == "remove") {
    outcome = cluster.ask({"DELETE", "/members/" + id}, false);
  } else if (c == "promote") {
    outcome = cluster.ask({"POST", "/members/" + id + "/promote"}, false);
  } else {
    const json::object body{{"id", id}};
    outcome = cluster.ask({"POST", "/leader/transfer", json::serialize(body)}, false);
  }
  if (unknown_outcome(outcome.reply) && settled(flags, cluster)) {
    console.out << (console.output == Output::json ? "{\"result\":null}\n" : "OK\n");
    return success;
  }
  return answer(outcome, console, [&](const json::value&) { console.out << "OK\n"; });
}

/// The number `name` of a /status object (or of its "snapshot"); 0 when absent.
std::uint64_t status_number(const json::value& status, const char* name) {
  const auto* found = status.is_object() ? status.get_object().if_contains(name) : nullptr;
  boost::system::error_code ec;
  const auto number = found ? found->to_number<std::uint64_t>(ec) : 0;
  return ec ? 0 : number;
}

/// Asks one endpoint to snapshot, then waits until its snapshot covers
/// what it had applied when asked; the snapshot's index, or why not.
std::variant<std::uint64_t, std::string> snapshot_one(Cluster& cluster,
                                                      const std::string& endpoint) {
  const auto before = cluster.ask_one(endpoint, {"GET", "/status"});
  if (!succeeded(before)) return before.answered ? before.reply.body : before.reply.problem;
  const auto applied = status_number(parse_or_null(before.reply.body), "applied");
  const auto asked = cluster.ask_one(endpoint, {"POST", "/admin/snapshot"});
  if (!succeeded(asked)) return asked.answered ? asked.reply.body : asked.reply.problem;
  const auto deadline = std::chrono::steady_clock::now() + cluster.connection().timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto now = cluster.ask_one(endpoint, {"GET", "/status"});
    if (succeeded(now)) {
      const auto status = parse_or_null(now.reply.body);
      const auto* snap = status.is_object() ? status.get_object().if_contains("snapshot") : nullptr;
      const auto index = snap ? status_number(*snap, "index") : 0;
      if (index >= applied) return index;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "no snapshot up to index " + std::to_string(applied) + " within --timeout";
}

int snapshot(Cluster& cluster, const Console& console) {
  std::vector<Row> rows;
  json::array all;
  bool every = true;
  for (const auto& endpoint : cluster.connection().endpoints) {
    const auto done = snapshot_one(cluster, endpoint);
    if (const auto* index = std::get_if<std::uint64_t>(&done)) {
      rows.push_back({endpoint, std::to_string(*index), ""});
      all.push_back({{"endpoint", endpoint}, {"snapshot_index", *index}});
    } else {
      every = false;
      rows.push_back({endpoint, "", std::get<std::string>(done)});
      all.push_back({{"endpoint", endpoint}, {"error", std::get<std::string>(done)}});
    }
  }
  if (console.output == Output::json) {
    console.out << json::serialize(all) << '\n';
  } else {
    print_table(console.out, {"ENDPOINT", "SNAPSHOT_INDEX", "ERROR"}, rows);
  }
  return every ? success : unavailable;
}

}  // namespace

int report_failure(const Outcome& outcome, const Console& console) {
  if (!outcome.answered || retry_elsewhere(outcome.reply)) {
    console.err << "conflux-ctl: unavailable: " << outcome.problems << '\n';
    return unavailable;
  }
  const auto body = parse_or_null(outcome.reply.body);
  const auto* message = body.is_object() ? body.get_object().if_contains("error") : nullptr;
  const auto* code = body.is_object() ? body.get_object().if_contains("code") : nullptr;
  console.err << "conflux-ctl: " << outcome.endpoint << " refused (" << outcome.reply.status
              << (code ? " " + plain(*code) : "")
              << "): " << (message ? plain(*message) : outcome.reply.body) << '\n';
  return refused;
}

int run_command(const CtlFlags& flags, Cluster& cluster, const Console& console) {
  const auto& c = flags.command;
  if (c == "status") return status(cluster, console);
  if (c == "perform") return perform(flags, cluster, console);
  if (c == "put") return put(flags, cluster, console);
  if (c == "get") return get(flags, cluster, console);
  if (c == "state") return state(flags, cluster, console);
  if (c == "members") return members(cluster, console);
  if (c == "watch") return watch(flags, cluster, console);
  if (c == "snapshot") return snapshot(cluster, console);
  return change_membership(flags, cluster, console);
}

}  // namespace conflux::ctl
