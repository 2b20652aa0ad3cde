#pragma once
// conflux-ctl's commands, each over the nodes' HTTP API (docs/operations.md,
// "conflux-ctl"). Each returns its exit code (ExitCode).

#include <ostream>

#include "cluster.hpp"
#include "ctl_flags.hpp"

namespace conflux::ctl {

/// Where a command writes: `out` its result, `err` why it failed.
struct Console {
  std::ostream& out;
  std::ostream& err;
  Output output;
};

/// Runs `flags.command` (a known command other than help).
int run_command(const CtlFlags& flags, Cluster& cluster, const Console& console);

/// Follows the commits (commands.cpp's watch).
int watch(const CtlFlags& flags, Cluster& cluster, const Console& console);

/// The exit code and message for an outcome that is not a success:
/// unavailable when no endpoint answered (or none could act), else refused
/// with the node's own message and code.
int report_failure(const Outcome& outcome, const Console& console);

}  // namespace conflux::ctl
