#pragma once
// A child process for tests that never outlives its owner: the destructor
// SIGKILLs and reaps it, so a failed REQUIRE or an exception cannot leave a
// daemon running, and PR_SET_PDEATHSIG kills it if the test binary itself
// dies (a CTest timeout). Its stdout and stderr are appended to a log file.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace conflux::test {

class ChildProcess {
 public:
  /// Starts `program` with `args` (fork + exec). Call from the thread that
  /// will own the child for its whole life: PR_SET_PDEATHSIG fires when the
  /// forking *thread* exits. Its stdout goes to `log`, and its stderr too
  /// unless `error_log` is given. Throws std::system_error if fork fails; an
  /// exec failure shows as exit status 127 and a line on its stderr.
  ChildProcess(const std::filesystem::path& program, const std::vector<std::string>& args,
               const std::filesystem::path& log, const std::filesystem::path& error_log = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// Not yet reaped (it may be stopped, or a zombie that wait_for_exit has
  /// not collected).
  bool running() const { return !status_; }
  /// Stopped by pause() and not resumed since.
  bool paused() const { return paused_; }

  void pause();      ///< SIGSTOP
  void resume();     ///< SIGCONT
  void terminate();  ///< SIGTERM: the daemon's graceful stop
  void hangup();     ///< SIGHUP: conflux-node reads its TLS files again
  /// SIGKILL, then reaps it.
  void kill();

  /// Waits for the child to exit; its waitpid status, or nullopt if it is
  /// still running when `timeout` passes.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  /// The waitpid status once reaped.
  std::optional<int> status() const { return status_; }

 private:
  void signal(int number);

  pid_t pid_ = -1;
  std::optional<int> status_;
  bool paused_ = false;
};

/// "exit 0", "signal 9", for messages.
std::string describe_status(int status);
/// The exit code if the process exited normally, else nullopt.
std::optional<int> exit_code(std::optional<int> status);

}  // namespace conflux::test
