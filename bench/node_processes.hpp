#pragma once
// A local cluster of conflux-node processes on loopback for the tcp,
// websocket and redis modes: ports, a temporary directory for data and logs,
// the processes (and the relay: a conflux-hub for websocket, a redis-server
// for redis), all gone when the object is.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_flags.hpp"
#include "child_process.hpp"
#include "support/temp_dir.hpp"

namespace conflux::bench {

using test::TempDir;

/// What carries the nodes' traffic: the TCP mesh, or a relay process.
enum class Relay { none, hub, redis };

struct NodeProcessesSpec {
  Relay relay = Relay::none;  ///< --channel tcp, ws (through a hub) or redis
  int nodes = 3;
  std::string app = "bench-noop";
  bool durable = false;  ///< --data-dir in the temporary directory, else --in-memory
  bool fsync = true;     ///< with durable
  std::filesystem::path node_binary;
  std::filesystem::path relay_binary;  ///< conflux-hub or redis-server
  /// Nodes n1..n<hosted> run in the bench itself (TCP mesh only): they get
  /// ports but no process.
  int hosted = 0;
  /// Added to every process's command line.
  std::vector<std::string> node_flags;
  /// Set: TLS between the nodes, with the certificates in this directory
  /// (BenchFlags::tls_dir).
  std::string tls_dir;
};

/// A port bound on 127.0.0.1 but not listening, with SO_REUSEADDR: nobody
/// else can take it until it is released, yet a child that binds it with
/// SO_REUSEADDR (every Conflux acceptor does) may listen on it. This avoids
/// the race of "find a free port, close it, hope it stays free".
class ReservedPort {
 public:
  ReservedPort();
  ~ReservedPort();
  ReservedPort(ReservedPort&& other) noexcept;
  ReservedPort& operator=(ReservedPort&&) = delete;
  unsigned short port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

class NodeProcesses {
 public:
  /// Starts the relay, if any, and the nodes; returns at once.
  /// Throws std::runtime_error when a binary cannot be run.
  explicit NodeProcesses(const NodeProcessesSpec& spec);
  ~NodeProcesses() = default;  // kills the processes, then removes the directory

  /// "host:port" of each node's HTTP API, node i is "n<i+1>".
  const std::vector<std::string>& http_addresses() const { return http_; }
  /// "host:port" node i listens on for its peers (TCP mesh).
  std::string peer_address(int index) const {
    return peer_ports_.at(static_cast<std::size_t>(index)).address();
  }
  /// The node processes (none for the hosted nodes), then the relay
  /// ("hub" or "redis").
  const std::vector<std::unique_ptr<ChildProcess>>& processes() const { return children_; }
  /// Throws std::runtime_error naming a process that has ended, with the
  /// tail of its log.
  void check_alive();
  /// The log tails of every process, for a run that failed.
  std::string logs(std::size_t lines) const;

 private:
  std::vector<std::string> node_arguments(const NodeProcessesSpec& spec, int index) const;
  void start_relay(const NodeProcessesSpec& spec);

  TempDir dir_;  // declared first: removed after the processes are killed
  // Held until the processes end, so that no other program takes them.
  std::optional<ReservedPort> relay_port_;
  std::vector<ReservedPort> peer_ports_;
  std::vector<ReservedPort> http_ports_;
  std::vector<std::string> http_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

/// The processes a run of --mode tcp, websocket, redis or embedded starts.
NodeProcessesSpec node_processes_spec(const BenchFlags& flags);

/// Where conflux-node / conflux-hub is: `given` when set, else next to this
/// executable, else in the build tree conflux-bench was built from; a
/// program of the system (redis-server) is looked for on PATH instead.
/// Throws std::runtime_error listing the places tried.
std::filesystem::path find_binary(const std::string& name, const std::string& given);

}  // namespace conflux::bench
