#include "ctl_flags.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "flag_reader.hpp"
#include "token_file.hpp"

namespace conflux::ctl {
namespace {

using cli::FlagError;

struct Command {
  std::string_view name;
  std::size_t min_args;
  std::size_t max_args;
  std::string_view synopsis;
  std::string_view help;
};

constexpr std::size_t any = 1'000'000;

constexpr std::array<Command, 13> commands{{
    {"status", 0, 0, "status",
     "Asks every endpoint for its /status: id, role, term, leader, commit, applied.\n"
     "Exits 0 when at least one answered."},
    {"perform", 1, any, "perform <method> [arg...]",
     "Runs a method of the app on the leader and prints the committed action.\n"
     "Each argument is read as JSON when it is JSON (42, true, {\"a\":1}, \"quoted\"),\n"
     "else as a string. Runs in a client session of its own, so when an endpoint\n"
     "fails mid-way the next one is asked the same and it is applied once."},
    {"get", 0, 1, "get [key] [--consistency linearizable|local]",
     "The kv app: a key's value (nothing when absent), or every key without one.\n"
     "Linearizable by default (every action committed before the call); local\n"
     "reads the endpoint's committed state, maybe behind the leader."},
    {"put", 2, 2, "put <key> <value>",
     "The kv app: sets a key to a string value (use perform put for JSON values).\n"
     "Exactly once, as perform."},
    {"state", 0, 0, "state [--consistency linearizable|local] [--provisional]",
     "The whole state as JSON. --provisional: the endpoint's committed state with\n"
     "the actions still in its log applied on top."},
    {"watch", 0, 0, "watch [--from INDEX] [--count N]",
     "Follows the commits: prints each committed entry that carries an action or a\n"
     "membership change, from the next commit on (or after INDEX), until\n"
     "interrupted or N entries. Fails over between endpoints without missing or\n"
     "repeating an entry; exits 1 if the entries it needs were compacted away."},
    {"members", 0, 0, "members", "The voters and learners, with their peer addresses."},
    {"add", 2, 2, "add <id> <address> [--learner]",
     "Adds a node (reachable by its peers at <address>) as a voter once it has\n"
     "caught up, or as a learner. Adding it again, alike, changes nothing."},
    {"remove", 1, 1, "remove <id>", "Removes a member."},
    {"promote", 1, 1, "promote <id>", "Makes a learner a voter once it has caught up."},
    {"transfer", 1, 1, "transfer <id>", "Hands leadership to a voter (thesis §3.10)."},
    {"snapshot", 0, 0, "snapshot",
     "Asks every endpoint to snapshot its state and compact its log, and waits until\n"
     "each has. Exits 0 only when every one did."},
    {"help", 0, 1, "help [command]", "Prints the usage, or a command's."},
}};

const Command* find_command(const std::string& name) {
  const auto found = std::find_if(commands.begin(), commands.end(),
                                  [&](const Command& c) { return c.name == name; });
  return found == commands.end() ? nullptr : &*found;
}

std::vector<std::string> split_endpoints(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  if (out.empty()) throw FlagError("--endpoints names no endpoint");
  return out;
}

std::uint64_t index_value(const std::string& flag, const std::string& text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [last, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || last != end || value > (std::uint64_t{1} << 53) - 1) {
    throw FlagError(flag + " takes an integer from 0 to 2^53-1, not \"" + text + "\"");
  }
  return value;
}

std::chrono::milliseconds duration_value(const std::string& text) {
  std::uint64_t number = 0;
  const auto* end = text.data() + text.size();
  const auto [last, ec] = std::from_chars(text.data(), end, number);
  const std::string_view unit(last, end);
  const std::uint64_t scale = unit == "ms" ? 1 : unit == "s" || unit.empty() ? 1000 : 0;
  if (ec != std::errc() || scale == 0 || number == 0 || number > 3'600'000 / scale) {
    throw FlagError("--timeout takes a duration from 1ms to 3600s (\"500ms\", \"5s\"), not \"" +
                    text + "\"");
  }
  return std::chrono::milliseconds(number * scale);
}

/// One flag of the command line; false if `reader` is at no flag of ours.
bool read_flag(cli::FlagReader& reader, CtlFlags& flags) {
  const auto& name = reader.name();
  auto& c = flags.connection;
  if (name == "--help" || name == "-h") {
    reader.no_value();
    flags.help = true;
  } else if (name == "--endpoints") {
    c.endpoints = split_endpoints(reader.value());
  } else if (name == "--timeout") {
    c.timeout = duration_value(reader.value());
  } else if (name == "--output" || name == "-o") {
    const auto value = reader.value();
    if (value != "json" && value != "table") throw FlagError(name + " is json or table");
    flags.output = value == "json" ? Output::json : Output::table;
  } else if (name == "--cacert") {
    c.authority = reader.value();
  } else if (name == "--cert") {
    c.certificate = reader.value();
  } else if (name == "--key") {
    c.private_key = reader.value();
  } else if (name == "--token-file") {
    c.token = cli::read_token_file(reader.value());
  } else if (name == "--learner") {
    reader.no_value();
    flags.learner = true;
  } else if (name == "--provisional") {
    reader.no_value();
    flags.provisional = true;
  } else if (name == "--consistency") {
    const auto value = reader.value();
    if (value != "linearizable" && value != "local")
      throw FlagError("--consistency is linearizable or local, not \"" + value + "\"");
    flags.linearizable = value == "linearizable";
  } else if (name == "--from") {
    flags.from = index_value(name, reader.value());
  } else if (name == "--count") {
    flags.count = index_value(name, reader.value());
  } else {
    return false;
  }
  return true;
}

/// The options only some commands take: refused elsewhere, by name.
void check_options(const std::vector<std::string>& args, const std::string& command) {
  const std::array<std::pair<std::string_view, std::string_view>, 5> owners{{
      {"--learner", "add"},
      {"--provisional", "state"},
      {"--consistency", "get state"},
      {"--from", "watch"},
      {"--count", "watch"},
  }};
  for (const auto& arg : args) {
    const auto name = arg.substr(0, arg.find('='));
    for (const auto& [option, users] : owners) {
      if (name == option && users.find(command) == std::string_view::npos)
        throw FlagError(name + " is not an option of " + command);
    }
  }
}

void check_connection(const Connection& c) {
  if (c.certificate.empty() != c.private_key.empty())
    throw FlagError("--cert and --key go together");
  if (!c.certificate.empty() && c.authority.empty())
    throw FlagError("--cert needs --cacert: the authority the nodes' certificates are of");
}

}  // namespace

CtlFlags parse_ctl_flags(const std::vector<std::string>& args, const char* environment_endpoints) {
  CtlFlags flags;
  if (environment_endpoints && *environment_endpoints)
    flags.connection.endpoints = split_endpoints(environment_endpoints);
  std::vector<std::string> positional;
  for (cli::FlagReader reader(args); reader.next();) {
    if (read_flag(reader, flags)) continue;
    const auto& name = reader.name();
    if (name.starts_with("-") && name != "-" && !positional.empty() && positional[0] == "perform")
      positional.push_back(name);  // a negative number among a perform's arguments
    else if (name.starts_with("-") && name != "-")
      throw FlagError("unknown flag " + name);
    else
      positional.push_back(name);
  }
  if (positional.empty()) return flags;
  flags.command = positional.front();
  flags.args.assign(positional.begin() + 1, positional.end());
  const auto* command = find_command(flags.command);
  if (!command) throw FlagError("unknown command \"" + flags.command + "\"");
  if (flags.help) return flags;
  check_options(args, flags.command);
  check_connection(flags.connection);
  if (flags.args.size() < command->min_args || flags.args.size() > command->max_args) {
    throw FlagError(flags.command + " takes " + std::string(command->synopsis));
  }
  return flags;
}

bool known_command(const std::string& command) {
  return find_command(command) != nullptr;
}

std::string command_usage(const std::string& name) {
  const auto* command = find_command(name);
  return "usage: conflux-ctl " + std::string(command->synopsis) + "\n\n" +
         std::string(command->help) + "\n\nGlobal flags: conflux-ctl --help\n";
}

std::string usage() {
  std::string out =
      "usage: conflux-ctl [global flags] <command> [args]\n\n"
      "A command-line client of conflux-node's HTTP API (docs/operations.md).\n\nCommands:\n";
  for (const auto& command : commands) {
    out += "  " + std::string(command.synopsis) + "\n";
  }
  out += R"(
Global flags:
  --endpoints LIST    host:port,... of the nodes' HTTP APIs, tried in order
                      (default $CONFLUX_ENDPOINTS, else 127.0.0.1:8001);
                      http:// or https:// may prefix each
  --timeout D         each request's timeout: 500ms, 5s (default 5s)
  -o, --output F      table (default) or json
  --cacert FILE       HTTPS: the authority the nodes' certificates are of
                      (endpoints without a scheme then use https)
  --cert FILE --key FILE   a client certificate to present (stands for the token
                      when it names a member)
  --token-file FILE   the cluster's token, sent as a bearer token
  -h, --help          this usage, or a command's: conflux-ctl <command> --help
  --version

Exit codes: 0 done; 1 refused by the cluster; 2 a bad command line;
3 unavailable (no endpoint answered, or none in time).
)";
  return out;
}

}  // namespace conflux::ctl
