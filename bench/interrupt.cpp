#include "interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include "child_process.hpp"

namespace conflux::bench {

namespace {

std::atomic<bool> asked{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_signal(int) {
  if (asked.exchange(true)) {
    kill_children_from_signal_handler();
    _exit(130);
  }
}

}  // namespace

void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a node that dies mid-write is an error value, not a signal
}

bool interrupted() {
  return asked.load();
}

void throw_if_interrupted() {
  if (interrupted()) throw Interrupted();
}

}  // namespace conflux::bench
