#pragma once
// Ctrl-C (SIGINT), SIGTERM and SIGHUP during a run: the first one asks the
// run to stop, so that it ends through the ordinary path (nodes killed,
// temporary directories removed); a second one kills the children and
// exits at once.

#include <stdexcept>

namespace conflux::bench {

/// Thrown where a run notices interrupted(): unwinds through the cleanup.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

void install_interrupt_handler();
bool interrupted();
/// Throws Interrupted if interrupted().
void throw_if_interrupted();

}  // namespace conflux::bench
