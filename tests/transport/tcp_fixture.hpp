#pragma once
// Test fixtures for the TCP mesh: a cluster of TcpMesh nodes on loopback
// (ephemeral ports) in one io_context, and a raw peer that can send
// arbitrary bytes. Everything runs on the test thread's io_context; waits
// use run_until (a condition and a deadline), never sleeps.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/port_reservation.hpp>
#include <conflux/transport/tcp_mesh.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "transport/run_until.hpp"

namespace conflux::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

inline raft::Message vote(const raft::NodeId& from, const raft::NodeId& to, raft::Term term) {
  return raft::Message{from, to, term, raft::VoteRequest{false, term, term}};
}

/// An AppendEntries carrying one entry of about `bytes` bytes.
inline raft::Message big_append(const raft::NodeId& from, const raft::NodeId& to,
                                std::size_t bytes) {
  raft::AppendRequest append;
  append.entries.push_back(raft::Entry{1, 1, raft::EntryType::normal,
                                       raft::Payload('"' + std::string(bytes, 'x') + '"')});
  return raft::Message{from, to, 1, append};
}

inline std::string frame(std::string_view body) {
  std::string out;
  transport::append_frame(out, body);
  return out;
}

class MeshCluster {
 public:
  using Tweak = std::function<void(transport::TcpMeshConfig&)>;

  explicit MeshCluster(std::vector<raft::NodeId> ids, Tweak tweak = {}) : ids_(std::move(ids)) {
    tweak_ = std::move(tweak);
    for (const auto& id : ids_) create(id, reserved_[id].address());
    for (const auto& id : ids_) connect_addresses(id);
    for (const auto& id : ids_) start(id);
  }
  ~MeshCluster() {
    for (auto& [id, node] : nodes_) node->close();
    io.restart();
    io.run_for(std::chrono::seconds(5));
  }

  transport::TcpMesh& node(const raft::NodeId& id) { return *nodes_.at(id); }
  std::vector<raft::Message>& inbox(const raft::NodeId& id) { return inbox_[id]; }
  std::uint16_t port(const raft::NodeId& id) { return ports_.at(id); }
  bool running(const raft::NodeId& id) { return running_[id]; }

  transport::PeerStatus status(const raft::NodeId& of, const raft::NodeId& peer) {
    for (auto& s : nodes_.at(of)->status()) {
      if (s.id == peer) return s;
    }
    return {};
  }
  bool all_connected() {
    for (const auto& id : ids_) {
      for (const auto& s : nodes_.at(id)->status()) {
        if (!s.connected) return false;
      }
    }
    return true;
  }

  /// Closes `id` and waits until its run() has returned.
  bool stop(const raft::NodeId& id) {
    nodes_.at(id)->close();
    return run_until(io, [&] { return !running_[id]; });
  }
  /// Starts a fresh node `id` on the port the old one used (still reserved).
  void restart(const raft::NodeId& id) {
    nodes_.erase(id);
    create(id, reserved_.at(id).address());
    connect_addresses(id);
    start(id);
  }

  asio::io_context io;
  std::vector<std::string> logs;

 private:
  void create(const raft::NodeId& id, const std::string& listen) {
    transport::TcpMeshConfig config;
    config.id = id;
    config.cluster = "test-cluster";
    config.listen = listen;
    for (const auto& peer : ids_) config.peers[peer] = "";
    config.log = [this](std::string_view line) { logs.emplace_back(line); };
    if (tweak_) tweak_(config);
    nodes_[id] = std::make_unique<transport::TcpMesh>(
        io.get_executor(), config, [this, id](transport::Packet p) {
          inbox_[id].push_back(std::get<raft::Message>(std::move(p)));
        });
    ports_[id] = nodes_[id]->port();
  }
  void connect_addresses(const raft::NodeId& id) {
    for (const auto& peer : ids_) {
      if (peer == id) continue;
      nodes_.at(id)->set_peer_address(peer, "127.0.0.1:" + std::to_string(port(peer)));
      nodes_.at(peer)->set_peer_address(id, "127.0.0.1:" + std::to_string(port(id)));
    }
  }
  void start(const raft::NodeId& id) {
    running_[id] = true;
    asio::co_spawn(io, nodes_.at(id)->run(),
                   [this, id](std::exception_ptr) { running_[id] = false; });
  }

  std::vector<raft::NodeId> ids_;
  Tweak tweak_;
  std::map<raft::NodeId, transport::PortReservation> reserved_;  // outlives the nodes
  std::map<raft::NodeId, std::unique_ptr<transport::TcpMesh>> nodes_;
  std::map<raft::NodeId, std::vector<raft::Message>> inbox_;
  std::map<raft::NodeId, bool> running_;
  std::map<raft::NodeId, std::uint16_t> ports_;  // kept: a closed listener has no port
};

/// A raw TCP client for sending arbitrary bytes to a node.
class RawPeer {
 public:
  RawPeer(asio::io_context& io, std::uint16_t port) : socket_(io) {
    socket_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [this](boost::system::error_code ec) {
                            connected_ = !ec;
                            if (connected_) read_more();
                          });
  }
  bool connected() const { return connected_; }
  /// True once the other side closed the connection.
  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }

  void write(std::string bytes) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    asio::async_write(socket_, asio::buffer(*data), [data](auto, auto) {});
  }
  void shutdown_send() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }
  /// Sends a valid hello as `from`, in cluster `cluster`, to `to`.
  void hello(const raft::NodeId& from, const raft::NodeId& to,
             const std::string& cluster = "test-cluster") {
    write(
        frame(transport::encode(transport::Hello{transport::protocol_version, cluster, from, to})));
  }

 private:
  void read_more() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [this](boost::system::error_code ec, std::size_t n) {
                              if (ec) {
                                closed_ = true;
                                return;
                              }
                              received_.append(buffer_, n);
                              read_more();
                            });
  }

  tcp::socket socket_;
  char buffer_[4096];
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

}  // namespace conflux::test
