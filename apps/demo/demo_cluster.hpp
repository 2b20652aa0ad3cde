#pragma once
// The demo's cluster: N kv nodes in one process, joined by the TCP mesh over
// loopback, each with its own HTTP API and durable data directory. A node
// can be killed (closed and dropped) and restarted on its data directory.

#include <boost/asio/any_io_executor.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/port_reservation.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dashboard.hpp"
#include "http_server.hpp"
#include "node_api.hpp"

namespace conflux::demo {

struct DemoOptions {
  std::size_t nodes = 5;
  std::filesystem::path data_dir;  ///< one subdirectory per node
  LogSink log;
};

class DemoCluster final : public server::DashboardSource {
 public:
  /// Reserves loopback ports, then starts every node and its HTTP API.
  DemoCluster(boost::asio::any_io_executor executor, DemoOptions options);
  ~DemoCluster() override;

  std::size_t size() const { return members_.size(); }
  const std::string& id(std::size_t i) const { return members_.at(i).id; }
  std::string http_url(std::size_t i) const;
  /// Null while the node is killed.
  Node* node(std::size_t i) { return members_.at(i).node.get(); }
  bool running(std::size_t i) const { return members_.at(i).node != nullptr; }

  /// Index of the node that reports itself leader, if exactly one running
  /// node does; -1 otherwise.
  int leader() const;
  /// Stops the node's HTTP API and closes the node (as a crash would, but
  /// its last writes are flushed); `done` runs once both have stopped.
  void kill(std::size_t i, std::function<void()> done);
  /// Starts the node again on its data directory and HTTP port.
  void restart(std::size_t i);
  /// Closes every node; `done` runs once all have stopped.
  void stop(std::function<void()> done);

  // The dashboard's view: every node, with kill, restart, isolate and heal.
  std::vector<server::DashboardNode> nodes() override;
  bool has_controls() const override { return true; }
  std::string control(const std::string& op, const std::string& id) override;

 private:
  struct Member {
    std::string id;
    // Held for the demo's lifetime, so a restarted node finds its ports free.
    transport::PortReservation peer_port;
    transport::PortReservation http_port;
    std::unique_ptr<Node> node;
    std::unique_ptr<server::NodeApi> api;
    std::unique_ptr<server::HttpServer> http;
    bool stopping = false;  // kill() in progress
  };
  void start(Member& member);

  boost::asio::any_io_executor executor_;
  DemoOptions options_;
  std::vector<Peer> peers_;
  std::vector<Member> members_;
};

}  // namespace conflux::demo
