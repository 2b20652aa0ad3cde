#pragma once
// A cluster of conflux::Node in one io_context, over the in-process channel
// or TCP on loopback, with the list app of the original's tests: append(x)
// appends x; nothing() returns null; refuse() throws; poison() returns an
// action the reducer rejects.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <conflux/transport/ws_hub.hpp>
#include <memory>
#include <string>
#include <vector>

#include "support/free_port.hpp"
#include "transport/run_until.hpp"

namespace conflux::test {

enum class Wire { in_process, tcp, websocket };

inline const char* to_string(Wire wire) {
  return wire == Wire::in_process ? "in-process" : wire == Wire::tcp ? "tcp" : "websocket";
}

inline boost::json::value list_reduce(const boost::json::value& state,
                                      const boost::json::value& action) {
  boost::json::array next = state.is_array() ? state.get_array() : boost::json::array{};
  if (!action.is_object()) return next;
  const auto& object = action.get_object();
  if (object.if_contains("poison")) throw std::runtime_error("the reducer refuses poison");
  if (const auto* thing = object.if_contains("append")) next.push_back(*thing);
  return next;
}

/// list_reduce written as an InPlaceReducer: it refuses before it changes.
inline void list_reduce_in_place(boost::json::value& state, const boost::json::value& action) {
  if (!state.is_array()) state = boost::json::array{};
  if (!action.is_object()) return;
  const auto& object = action.get_object();
  if (object.if_contains("poison")) throw std::runtime_error("the reducer refuses poison");
  if (const auto* thing = object.if_contains("append")) state.get_array().push_back(*thing);
}

inline std::map<std::string, Method> list_methods() {
  std::map<std::string, Method> methods;
  methods["append"] = [](const boost::json::value&,
                         const boost::json::array& args) -> boost::json::value {
    if (args.empty()) throw Rejection("append needs one argument");
    return boost::json::object{{"append", args[0]}};
  };
  methods["nothing"] = [](const boost::json::value&,
                          const boost::json::array&) -> boost::json::value { return nullptr; };
  methods["refuse"] = [](const boost::json::value&,
                         const boost::json::array&) -> boost::json::value {
    throw Rejection("It is not your turn!");
  };
  methods["poison"] = [](const boost::json::value&,
                         const boost::json::array&) -> boost::json::value {
    return boost::json::object{{"poison", true}};
  };
  return methods;
}

class NodeCluster {
 public:
  /// `in_place`: the nodes reduce with list_reduce_in_place.
  NodeCluster(std::size_t size, Wire wire, bool in_place = false) {
    if (wire == Wire::websocket) {
      hub = std::make_unique<transport::WsHub>(io.get_executor(), transport::WsHubConfig{});
      boost::asio::co_spawn(io, hub->run(), boost::asio::detached);
    }
    std::vector<Peer> peers;
    for (std::size_t i = 0; i < size; ++i) {
      peers.push_back(
          Peer{"n" + std::to_string(i + 1), "127.0.0.1:" + std::to_string(free_port())});
    }
    for (const auto& peer : peers) {
      Options options;
      options.id = peer.id;
      options.peers = peers;
      if (wire == Wire::in_process) {
        options.in_process = InProcessChannelOptions{&network};
      } else if (wire == Wire::tcp) {
        options.tcp = TcpChannelOptions{peer.address, "test"};
      } else {
        options.websocket = WebSocketChannelOptions{hub_url()};
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
  transport::InProcessNetwork network{7};
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
