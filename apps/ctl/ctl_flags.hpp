#pragma once
// conflux-ctl's command line: global flags, a command and its arguments, in
// any order ("conflux-ctl --endpoints a:8001 get k -o json").

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace conflux::ctl {

/// What conflux-ctl's exit code says.
enum ExitCode : int {
  success = 0,
  refused = 1,      ///< the cluster answered, and refused (or a watch's entries were compacted)
  usage_error = 2,  ///< the command line cannot be run
  unavailable = 3,  ///< no endpoint answered, or none had a leader in time
};

enum class Output { table, json };

/// How conflux-ctl reaches the nodes' HTTP API.
struct Connection {
  /// "host:port" (HTTPS when an authority is given), "http://host:port" or
  /// "https://host:port"; tried in order, failing over to the next.
  std::vector<std::string> endpoints{"127.0.0.1:8001"};
  std::chrono::milliseconds timeout{5000};  ///< each request
  std::string authority;    ///< --cacert: PEM; the nodes' certificates must be of it
  std::string certificate;  ///< --cert: PEM, presented to the nodes (with --key)
  std::string private_key;  ///< --key
  std::string token;        ///< from --token-file: sent as a bearer token
};

struct CtlFlags {
  Connection connection;
  Output output = Output::table;
  std::string command;  ///< empty: print the usage
  std::vector<std::string> args;
  bool help = false;
  // Options of some commands.
  bool learner = false;                ///< add
  bool linearizable = true;            ///< get, state: --consistency linearizable|local
  bool provisional = false;            ///< state
  std::optional<std::uint64_t> from;   ///< watch: the index to follow after
  std::optional<std::uint64_t> count;  ///< watch: stop after this many entries
};

/// Parses the arguments after the program's name; CONFLUX_ENDPOINTS (when
/// `environment_endpoints` is set) replaces the default endpoints, and
/// --endpoints replaces both. Throws cli::FlagError for a command line that
/// cannot be run: an unknown flag or command, a missing or extra argument.
CtlFlags parse_ctl_flags(const std::vector<std::string>& args,
                         const char* environment_endpoints = nullptr);

/// The general usage, or one command's (`command` known).
std::string usage();
std::string command_usage(const std::string& command);
bool known_command(const std::string& command);

}  // namespace conflux::ctl
