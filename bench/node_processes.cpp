#include "node_processes.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "load_target.hpp"

namespace conflux::bench {

ReservedPort::ReservedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  // The casts are the sockets API's own: sockaddr_in is passed as sockaddr.
  if (fd_ < 0 || setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd_ >= 0) close(fd_);
    throw std::runtime_error("cannot reserve a loopback port: " + reason);
  }
  port_ = ntohs(address.sin_port);
}

ReservedPort::~ReservedPort() {
  if (fd_ >= 0) close(fd_);
}

ReservedPort::ReservedPort(ReservedPort&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), port_(other.port_) {}

std::filesystem::path find_binary(const std::string& name, const std::string& given) {
  namespace fs = std::filesystem;
  if (!given.empty()) {
    if (access(given.c_str(), X_OK) != 0)
      throw std::runtime_error(given + " is not an executable file");
    return given;
  }
  std::vector<fs::path> tried;
  if (!name.starts_with("conflux-")) {
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/bin";
    for (std::size_t end = 0; !dirs.empty(); dirs.remove_prefix(std::min(end + 1, dirs.size()))) {
      end = dirs.find(':');
      tried.push_back(fs::path(dirs.substr(0, end)) / name);
      if (end == std::string_view::npos) break;
    }
  }
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && name.starts_with("conflux-")) tried.push_back(self.parent_path() / name);
#ifdef CONFLUX_BENCH_APPS_DIR
  tried.push_back(fs::path(CONFLUX_BENCH_APPS_DIR) / name);
#endif
  std::string places;
  for (const auto& path : tried) {
    if (access(path.c_str(), X_OK) == 0) return path;
    places += ' ';
    places += path.string();
  }
  const auto flag = name == "conflux-hub" ? "hub" : name == "redis-server" ? "redis" : "node";
  throw std::runtime_error("cannot find " + name + " (tried" + places + "); pass --" + flag +
                           "-binary");
}

NodeProcessesSpec node_processes_spec(const BenchFlags& flags) {
  NodeProcessesSpec spec;
  spec.relay = flags.mode == Mode::websocket ? Relay::hub
               : flags.mode == Mode::redis   ? Relay::redis
                                             : Relay::none;
  spec.nodes = flags.nodes;
  spec.app = "bench-" + std::string(to_string(flags.reducer));
  spec.durable = flags.storage == Storage::file;
  spec.fsync = flags.fsync;
  spec.node_binary = find_binary("conflux-node", flags.node_binary);
  if (spec.relay == Relay::hub) spec.relay_binary = find_binary("conflux-hub", flags.hub_binary);
  if (spec.relay == Relay::redis)
    spec.relay_binary = find_binary("redis-server", flags.redis_binary);
  if (flags.mode == Mode::embedded) {
    // n1 runs in the bench with the default 300-500 ms; these nodes wait
    // far longer before they campaign, so n1 is elected.
    spec.hosted = 1;
    spec.node_flags = {"--election-timeout", "2000-3000"};
  }
  if (flags.read_lease) spec.node_flags.push_back("--read-lease");
  spec.tls_dir = flags.tls_dir;
  if (flags.snapshot_entries) {
    spec.node_flags.insert(
        spec.node_flags.end(),
        {"--snapshot-entries", std::to_string(*flags.snapshot_entries), "--snapshot-bytes", "0"});
  }
  return spec;
}

NodeProcesses::NodeProcesses(const NodeProcessesSpec& spec) : dir_("conflux-bench") {
  if (spec.hosted > 0 && spec.relay != Relay::none)
    throw std::logic_error("nodes hosted by the bench use the TCP mesh");
  if (spec.relay != Relay::none) start_relay(spec);
  for (int i = 0; i < spec.nodes; ++i) {
    if (spec.relay == Relay::none) peer_ports_.emplace_back();
    http_ports_.emplace_back();
    http_.push_back(http_ports_.back().address());
  }
  for (int i = spec.hosted; i < spec.nodes; ++i) {
    const auto id = node_id(i);
    children_.insert(
        children_.begin() + (i - spec.hosted),
        std::make_unique<ChildProcess>(id, node_arguments(spec, i), dir_.path() / (id + ".log")));
  }
}

// The hub, or a redis-server without persistence; the nodes redial until
// it listens.
void NodeProcesses::start_relay(const NodeProcessesSpec& spec) {
  const auto& port = relay_port_.emplace();
  std::vector<std::string> argv{spec.relay_binary.string()};
  if (spec.relay == Relay::hub) {
    argv.insert(argv.end(), {"--listen", port.address(), "--log-level", "warning"});
  } else {
    argv.insert(argv.end(), {"--port", std::to_string(port.port()), "--bind", "127.0.0.1", "--save",
                             "", "--appendonly", "no", "--dir", dir_.path().string()});
  }
  const std::string name = spec.relay == Relay::hub ? "hub" : "redis";
  children_.push_back(std::make_unique<ChildProcess>(name, argv, dir_.path() / (name + ".log")));
}

std::vector<std::string> NodeProcesses::node_arguments(const NodeProcessesSpec& spec,
                                                       int index) const {
  const auto id = node_id(index);
  const auto relay = [this] { return relay_port_->address(); };
  std::vector<std::string> argv{spec.node_binary.string()};
  const auto add = [&argv](std::initializer_list<std::string> more) {
    argv.insert(argv.end(), more);
  };
  add({"--id", id, "--http", http_[static_cast<std::size_t>(index)], "--app", spec.app});
  // The load comes from one address, this one, with up to 1024 connections.
  add({"--cluster", "bench", "--log-level", "warning", "--http-max-per-address", "1024"});
  if (spec.relay == Relay::hub) add({"--channel", "ws", "--hub", "ws://" + relay() + "/bench"});
  if (spec.relay == Relay::redis) add({"--channel", "redis", "--redis", "redis://" + relay()});
  if (spec.relay != Relay::none) {
    for (int i = 0; i < spec.nodes; ++i) add({"--peer", node_id(i)});
  } else {
    add({"--listen", peer_ports_[static_cast<std::size_t>(index)].address()});
    for (int i = 0; i < spec.nodes; ++i) {
      add({"--peer", node_id(i) + "=" + peer_ports_[static_cast<std::size_t>(i)].address()});
    }
  }
  argv.insert(argv.end(), spec.node_flags.begin(), spec.node_flags.end());
  if (!spec.tls_dir.empty()) {
    const auto files = tls_files(spec.tls_dir, id);
    add({"--tls-cert", files.certificate, "--tls-key", files.private_key, "--tls-ca",
         files.authority});
  }
  if (spec.durable) {
    add({"--data-dir", (dir_.path() / id).string(), "--fsync", spec.fsync ? "always" : "never"});
  } else {
    add({"--in-memory"});
  }
  return argv;
}

void NodeProcesses::check_alive() {
  for (const auto& child : children_) {
    if (!child->running()) {
      throw std::runtime_error(child->name() + " " + child->exit_description() + "; its log:\n" +
                               child->log_tail(20));
    }
  }
}

std::string NodeProcesses::logs(std::size_t lines) const {
  std::string text;
  for (const auto& child : children_) text += "  " + child->name() + ":\n" + child->log_tail(lines);
  return text;
}

}  // namespace conflux::bench
