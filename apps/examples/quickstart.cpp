// The README's quick example: three nodes in one process share a list.
// Built in CI (apps/examples), so the documentation cannot rot.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <iostream>

namespace asio = boost::asio;
namespace json = boost::json;

// [quickstart-app]
// A reducer: returns the new state; builds the initial state from null.
json::value reduce(const json::value& state, const json::value& action) {
  json::array list = state.is_array() ? state.get_array() : json::array{};
  if (action.is_object() && action.get_object().contains("add")) list.push_back(action.at("add"));
  return list;
}

// A method (action creator): runs on the leader against the provisional state.
json::value add(const json::value& state, const json::array& args) {
  if (args.size() != 1) throw conflux::Rejection("add takes one argument");
  for (const auto& item : state.as_array()) {
    if (item == args[0]) throw conflux::Rejection("already in the list");
  }
  return json::object{{"add", args[0]}};
}
// [quickstart-app]

// [quickstart-perform]
asio::awaitable<void> use(conflux::Node& node) {
  const json::array milk{"milk"};  // g++ 12: build braced lists outside co_await
  json::value action = co_await node.perform("add", milk, asio::use_awaitable);
  std::cout << "committed " << action << ", state " << node.state() << '\n';
  try {
    co_await node.perform("add", milk, asio::use_awaitable);
  } catch (const conflux::Error& error) {
    std::cout << "refused: " << error.what() << '\n';  // "already in the list"
  }
  // Linearizable (thesis §6.4): every action committed before the call, on any node.
  json::value latest = co_await node.linearizable_state(asio::use_awaitable);
  std::cout << "read " << latest << '\n';
}
// [quickstart-perform]

int main() {
  asio::io_context io;
  conflux::transport::InProcessNetwork network;
  // [quickstart-nodes]
  std::vector<std::unique_ptr<conflux::Node>> nodes;
  for (const char* id : {"a", "b", "c"}) {
    conflux::Options options;
    options.id = id;
    options.peers = {{"a", ""}, {"b", ""}, {"c", ""}};
    options.channel = conflux::InProcessChannelOptions{&network};
    options.methods = {{"add", add}};
    options.reduce = reduce;
    nodes.push_back(std::make_unique<conflux::Node>(io.get_executor(), options));
  }
  // [quickstart-nodes]
  asio::co_spawn(io, use(*nodes[1]), [&](std::exception_ptr) {
    for (auto& node : nodes) node->close(asio::detached);
  });
  io.run();  // returns once every node is closed
}
