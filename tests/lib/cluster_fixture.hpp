#pragma once
// A cluster of conflux::Node in one io_context, over the in-process channel,
// TCP on loopback, a WebSocket hub or a redis-server of its own, running the
// list app (list_app.hpp).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <conflux/transport/ws_hub.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/list_app.hpp"
#include "support/dev_certs.hpp"
#include "support/redis_server.hpp"
#include "transport/run_until.hpp"

namespace conflux::test {

/// tls: the TCP mesh with TLS and each node's certificate (dev_certs.hpp).
enum class Wire { in_process, tcp, tls, websocket, redis };

inline const char* to_string(Wire wire) {
  const char* names[] = {"in-process", "tcp", "tls", "websocket", "redis"};
  return names[static_cast<int>(wire)];
}

/// Certificates of n1..n7, made once per test binary.
inline const DevCerts& node_certs() {
  static const struct Made {
    DevCerts certs;
    Made() { certs.make("n1 n2 n3 n4 n5 n6 n7"); }
  } made;
  return made.certs;
}

class NodeCluster {
 public:
  /// `in_place`: the nodes reduce with list_reduce_in_place. `tweak` may
  /// change any node's options before it is built.
  NodeCluster(std::size_t size, Wire wire, bool in_place = false,
              const std::function<void(Options&)>& tweak = {}) {
    if (wire == Wire::websocket) {
      hub = std::make_unique<transport::WsHub>(io.get_executor(), transport::WsHubConfig{});
      boost::asio::co_spawn(io, hub->run(), boost::asio::detached);
    }
    if (wire == Wire::redis) redis = std::make_unique<RedisServer>();
    std::vector<Peer> peers;
    for (std::size_t i = 0; i < size; ++i) {
      peers.push_back(Peer{"n" + std::to_string(i + 1), ports.emplace_back().address()});
    }
    for (const auto& peer : peers) {
      Options options;
      options.id = peer.id;
      options.peers = peers;
      if (wire == Wire::in_process) {
        options.channel = InProcessChannelOptions{&network};
      } else if (wire == Wire::tcp || wire == Wire::tls) {
        TcpChannelOptions tcp{peer.address, "test"};
        if (wire == Wire::tls) tcp.tls = node_certs().files(peer.id);
        options.channel = tcp;
      } else if (wire == Wire::websocket) {
        options.channel = WebSocketChannelOptions{hub_url()};
      } else {
        options.channel = RedisChannelOptions{redis->url(), "test"};
      }
      options.methods = list_methods();
      if (in_place) {
        options.reduce_in_place = list_reduce_in_place;
      } else {
        options.reduce = list_reduce;
      }
      options.election_timeout = {std::chrono::milliseconds(100), std::chrono::milliseconds(200)};
      options.heartbeat_interval = std::chrono::milliseconds(20);
      options.perform_timeout = std::chrono::seconds(5);
      if (tweak) tweak(options);
      ids.push_back(peer.id);
      nodes.push_back(std::make_unique<Node>(io.get_executor(), options));
    }
  }
  ~NodeCluster() {
    for (auto& node : nodes) node->close([] {});
    if (hub) hub->close();
    io.restart();
    io.run_for(std::chrono::seconds(5));
  }

  Node& node(std::size_t i) { return *nodes.at(i); }
  /// Index of the node every live node agrees leads, or -1.
  int leader() {
    int found = -1;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (!nodes[i] || nodes[i]->status().role != "leader") continue;
      found = static_cast<int>(i);
    }
    return found;
  }
  bool wait_for_leader(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return run_until(
        io, [&] { return leader() >= 0; }, timeout);
  }
  bool converged(const boost::json::value& expected) {
    for (auto& node : nodes) {
      if (node && node->state() != expected) return false;
    }
    return true;
  }

  std::string hub_url() const { return "ws://127.0.0.1:" + std::to_string(hub->port()) + "/test"; }

  boost::asio::io_context io;
  std::unique_ptr<transport::WsHub> hub;  // with Wire::websocket
  std::unique_ptr<RedisServer> redis;     // with Wire::redis
  transport::InProcessNetwork network{7};
  std::vector<transport::PortReservation> ports;  // the peers' addresses, held while they run
  std::vector<std::string> ids;
  std::vector<std::unique_ptr<Node>> nodes;
};

/// The outcome of one perform with a callback token.
struct Result {
  bool done = false;
  boost::json::value value;
  std::exception_ptr error;

  auto handler() {
    return [this](std::exception_ptr e, boost::json::value v) {
      error = e;
      value = std::move(v);
      done = true;
    };
  }
  /// The conflux::Error code, or nullopt on success.
  std::optional<errc> code() const {
    if (!error) return std::nullopt;
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      return e.code();
    } catch (...) {
      return errc::method_failed;
    }
  }
  std::string message() const {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return e.what();
    }
    return {};
  }
};

}  // namespace conflux::test
