#include "apps/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <system_error>

namespace conflux::test {
namespace {

// Between fork and exec only async-signal-safe calls are allowed (the test
// runs client threads), so everything the child needs is prepared before.
[[noreturn]] void become(const char* program, char* const* argv, const char* log,
                         const char* error_log, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
  const int null = ::open("/dev/null", O_RDONLY);
  const int out = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int err = *error_log ? ::open(error_log, O_WRONLY | O_CREAT | O_APPEND, 0644) : out;
  if (null < 0 || out < 0 || err < 0) ::_exit(125);
  ::dup2(null, STDIN_FILENO);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(err, STDERR_FILENO);
  ::execv(program, argv);
  static const char failed[] = "exec failed\n";
  [[maybe_unused]] const auto n = ::write(STDERR_FILENO, failed, sizeof failed - 1);
  ::_exit(127);
}

}  // namespace

ChildProcess::ChildProcess(const std::filesystem::path& program,
                           const std::vector<std::string>& args, const std::filesystem::path& log,
                           const std::filesystem::path& error_log) {
  const std::string program_text = program.string();
  const std::string log_text = log.string();
  const std::string error_text = error_log.string();
  std::vector<std::string> words{program_text};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0)
    become(program_text.c_str(), argv.data(), log_text.c_str(), error_text.c_str(), parent);
}

ChildProcess::~ChildProcess() {
  if (running()) kill();
}

void ChildProcess::signal(int number) {
  if (running()) ::kill(pid_, number);
}

void ChildProcess::pause() {
  signal(SIGSTOP);
  paused_ = true;
}

void ChildProcess::resume() {
  signal(SIGCONT);
  paused_ = false;
}

void ChildProcess::terminate() {
  signal(SIGTERM);
}

void ChildProcess::hangup() {
  signal(SIGHUP);
}

void ChildProcess::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);  // works on a stopped process too
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = status;
  paused_ = false;
}

// waitpid has no timeout: wait on a pidfd, which becomes readable when the
// child exits, then reap it.
std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  if (!running()) return status_;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd < 0) throw std::system_error(errno, std::generic_category(), "pidfd_open");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd exited{.fd = pidfd, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&exited, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (ready < 0 && errno == EINTR) continue;
    break;
  }
  ::close(pidfd);
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
  return status_;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::optional<int> exit_code(std::optional<int> status) {
  if (!status || !WIFEXITED(*status)) return std::nullopt;
  return WEXITSTATUS(*status);
}

}  // namespace conflux::test
