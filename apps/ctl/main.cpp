// conflux-ctl: a command-line client of conflux-node's HTTP API, as etcdctl
// is etcd's (docs/operations.md, "conflux-ctl").
#include <cstdlib>
#include <iostream>

#include "commands.hpp"
#include "flag_reader.hpp"
#include "version.hpp"

int main(int argc, char** argv) {
  using namespace conflux::ctl;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (conflux::cli::printed_version(args, "conflux-ctl")) return success;
  CtlFlags flags;
  try {
    flags = parse_ctl_flags(args, std::getenv("CONFLUX_ENDPOINTS"));
  } catch (const conflux::cli::FlagError& error) {
    std::cerr << "conflux-ctl: " << error.what() << "\nTry 'conflux-ctl --help'.\n";
    return usage_error;
  }
  if (flags.command == "help" && !flags.args.empty()) {
    if (!known_command(flags.args[0])) {
      std::cerr << "conflux-ctl: unknown command \"" << flags.args[0] << "\"\n";
      return usage_error;
    }
    std::cout << command_usage(flags.args[0]);
    return success;
  }
  if (flags.command.empty() || flags.command == "help") {
    std::cout << usage();
    return flags.command.empty() && !flags.help ? usage_error : success;
  }
  if (flags.help) {
    std::cout << command_usage(flags.command);
    return success;
  }
  Cluster cluster(flags.connection);
  try {
    return run_command(flags, cluster, {std::cout, std::cerr, flags.output});
  } catch (const conflux::cli::FlagError& error) {  // an endpoint without a port
    std::cerr << "conflux-ctl: " << error.what() << '\n';
    return usage_error;
  }
}
