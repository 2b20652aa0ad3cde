#include "child_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <stdexcept>

namespace conflux::bench {

namespace {

// Pids of live children, readable from a signal handler (atomics of pid_t
// are lock-free, a std::vector is not safe there).
std::array<std::atomic<pid_t>, 64> live_children{};

void remember(pid_t pid) {
  for (auto& slot : live_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
  // More than 64 children: this one is still killed by its destructor.
}

void forget(pid_t pid) {
  for (auto& slot : live_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

/// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void become_child(char* const* argv, int log_fd, int error_fd, pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the bench died before prctl
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);  // the bench ignores it; an ignored signal survives exec
  const int null_fd = open("/dev/null", O_RDONLY);
  dup2(null_fd, 0);
  dup2(log_fd, 1);
  dup2(log_fd, 2);
  execv(argv[0], argv);
  const int error = errno;
  [[maybe_unused]] const auto written = write(error_fd, &error, sizeof error);
  _exit(127);
}

/// Forks and executes; throws with exec's errno if that failed. A pipe
/// closed on exec tells the two apart: it reads empty once exec succeeded.
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log_file) {
  std::vector<char*> argv;  // built before fork: no allocation in the child
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0)
    throw std::runtime_error("cannot create " + log_file.string() + ": " + std::strerror(errno));
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) become_child(argv.data(), log_fd, pipe_fds[1], parent);
  close(pipe_fds[1]);
  close(log_fd);
  if (pid < 0) {
    close(pipe_fds[0]);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  }
  int error = 0;
  const auto got = read(pipe_fds[0], &error, sizeof error);
  close(pipe_fds[0]);
  if (got == sizeof error) {
    waitpid(pid, nullptr, 0);
    throw std::runtime_error("cannot run " + args.front() + ": " + std::strerror(error));
  }
  return pid;
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

}  // namespace

ChildProcess::ChildProcess(std::string name, const std::vector<std::string>& argv,
                           std::filesystem::path log_file)
    : name_(std::move(name)), log_file_(std::move(log_file)) {
  pid_ = spawn(argv, log_file_);
  remember(pid_);
}

ChildProcess::~ChildProcess() {
  kill();
}

bool ChildProcess::running() {
  if (reaped_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  reaped_ = true;
  exit_ = describe(status);
  forget(pid_);
  return false;
}

void ChildProcess::kill() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (exit_.empty()) exit_ = describe(status);
  forget(pid_);
}

std::string ChildProcess::log_tail(std::size_t lines) const {
  std::ifstream file(log_file_);
  std::deque<std::string> tail;
  for (std::string line; std::getline(file, line);) {
    tail.push_back(std::move(line));
    if (tail.size() > lines) tail.pop_front();
  }
  std::string text;
  for (const auto& line : tail) text += "    " + line + "\n";
  return text;
}

void kill_children_from_signal_handler() noexcept {
  for (auto& slot : live_children) {
    if (const pid_t pid = slot.load(); pid > 0) ::kill(pid, SIGKILL);
  }
}

}  // namespace conflux::bench
