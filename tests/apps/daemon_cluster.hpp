#pragma once
// A cluster of conflux-node processes on loopback for the daemon tests:
// ephemeral ports, durable data directories under a fresh temporary
// directory (removed at the end, after every process is killed), short
// Raft timings, and one log file per node that a test prints on failure
// with INFO(cluster.logs()).

#include <boost/json/value.hpp>
#include <chrono>
#include <conflux/transport/port_reservation.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/http_client.hpp"
#include "apps/https_client.hpp"
#include "apps/process.hpp"
#include "support/temp_dir.hpp"

namespace conflux::test {

using namespace std::chrono_literals;

/// The conflux-node binary under test (set by CMake).
std::filesystem::path node_binary();

/// A node's GET /status.
struct DaemonStatus {
  std::string id;
  std::string role;
  std::string leader;  ///< empty when unknown
  std::uint64_t term = 0;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t last_index = 0;
};

/// Parses a /status body; nullopt if it is not the expected JSON.
std::optional<DaemonStatus> parse_status(const std::string& body);

/// How the tests reach the nodes' HTTP API: plain HTTP, or HTTPS verified
/// against `tls.authority` (presenting `tls.certificate` if set); with a
/// bearer token if set.
struct DaemonClient {
  transport::TlsFiles tls;
  std::string token;
};

class DaemonCluster {
 public:
  /// Starts `size` nodes n1..nN at once; `flags` are added to every node's
  /// command line after the defaults (a later flag overrides an earlier
  /// one), "{id}" in them replaced by the node's id.
  explicit DaemonCluster(std::size_t size, std::vector<std::string> flags = {},
                         DaemonClient client = {});
  DaemonCluster(const DaemonCluster&) = delete;
  DaemonCluster& operator=(const DaemonCluster&) = delete;

  std::size_t size() const { return members_.size(); }
  const std::string& id(std::size_t i) const { return members_.at(i).id; }
  std::uint16_t http_port(std::size_t i) const { return members_.at(i).http_port.port(); }
  std::uint16_t peer_port(std::size_t i) const { return members_.at(i).peer_port.port(); }
  std::vector<std::uint16_t> http_ports() const;
  ChildProcess& process(std::size_t i) { return *members_.at(i).process; }
  /// Starts node i again on its ports and data directory. Precondition: its
  /// previous process has exited (kill() or wait_for_exit()).
  void start(std::size_t i);
  /// Starts a new node, n<size()+1>, with an empty data directory in join
  /// mode: no --peer, and --join naming node `via`'s HTTP address, which it
  /// asks to add it (thesis ch. 4). Its index.
  std::size_t join(std::size_t via);
  /// As join(), asking the HTTP API at `address` ("127.0.0.1:port"): one
  /// where nothing listens leaves the node waiting to be added by hand.
  std::size_t join_through(const std::string& address);
  /// Running and not paused: expected to answer.
  bool live(std::size_t i) const;

  /// One request to node i's HTTP API, as the client was told to make it.
  HttpReply request(std::size_t i, const std::string& method, const std::string& target,
                    const std::string& body = "", std::chrono::milliseconds timeout = 5s) const;
  std::optional<DaemonStatus> status(std::size_t i, std::chrono::milliseconds timeout = 1s) const;
  /// POST /perform/<method> with `args` as the body, on node i.
  HttpReply perform(std::size_t i, const std::string& method, const boost::json::array& args,
                    std::chrono::milliseconds timeout = 5s) const;

  /// Waits until every live node answers /status naming the same leader, and
  /// that node alone reports the leader role; its index, or nullopt at the
  /// deadline.
  std::optional<std::size_t> wait_for_leader(std::chrono::milliseconds timeout = 10s) const;
  /// Waits until GET /state returns the same JSON on every live node; that
  /// state, or nullopt at the deadline.
  std::optional<boost::json::value> wait_for_same_state(
      std::chrono::milliseconds timeout = 10s) const;

  /// The last lines of each node's log, for failure messages.
  std::string logs() const;
  const std::filesystem::path& directory() const { return directory_.path(); }

 private:
  struct Member {
    std::string id;
    transport::PortReservation peer_port;  // held while the test runs:
    transport::PortReservation http_port;  // restarts find them free
    std::unique_ptr<ChildProcess> process;
    std::string join;  ///< the --join address; empty for a founding member
  };
  std::vector<std::string> command_line(std::size_t i) const;
  std::optional<std::size_t> agreed_leader() const;
  std::optional<boost::json::value> same_state() const;

  TempDir directory_{"conflux-daemon-test"};  // declared first: removed after the processes die
  std::vector<std::string> flags_;
  DaemonClient client_;
  std::vector<Member> members_;
};

}  // namespace conflux::test
