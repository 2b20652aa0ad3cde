#pragma once
// A child process the bench starts (a conflux-node or a conflux-hub) and
// always ends: the destructor kills it with SIGKILL and reaps it, and the
// kernel kills it too if the bench dies first (PR_SET_PDEATHSIG).
//
// Children run in their own process group, so that a Ctrl-C in the terminal
// reaches the bench only: the bench decides when and how the nodes stop.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace conflux::bench {

class ChildProcess {
 public:
  /// Starts argv[0] with `argv`; its stdout and stderr go to `log_file`.
  /// Throws std::runtime_error when it cannot be executed.
  /// Precondition: called on the main thread, which lives until the child
  /// is reaped (PR_SET_PDEATHSIG fires when the *thread* that forked ends).
  ChildProcess(std::string name, const std::vector<std::string>& argv,
               std::filesystem::path log_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  /// Whether it still runs; once it has ended, reaps it and keeps why.
  bool running();
  /// "exited with 1", "killed by signal 9"; empty while running.
  const std::string& exit_description() const { return exit_; }
  /// The last `lines` lines of its output.
  std::string log_tail(std::size_t lines) const;
  /// SIGKILL, then reap. Idempotent.
  void kill();

 private:
  std::string name_;
  std::filesystem::path log_file_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string exit_;
};

/// SIGKILLs every child that is still registered. Async-signal-safe: for a
/// signal handler that must exit at once.
void kill_children_from_signal_handler() noexcept;

}  // namespace conflux::bench
