// Three nodes in one process share a counter: what a program built against
// an installed Conflux (find_package(conflux) or pkg-config) can do.

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

// The reducer also builds the initial state, from a null action.
json::value reduce(const json::value& state, const json::value& action) {
  const auto total = state.is_int64() ? state.get_int64() : 0;
  return action.is_object() ? total + action.at("add").as_int64() : total;
}

json::value add(const json::value&, const json::array& args) {
  if (args.size() != 1 || !args[0].is_int64()) throw conflux::Rejection("add takes an integer");
  return json::object{{"add", args[0]}};
}

asio::awaitable<void> count(conflux::Node& node) {
  for (int step = 1; step <= 3; ++step) {
    const json::array args{step};
    co_await node.perform("add", args, asio::use_awaitable);
  }
  json::value total = co_await node.linearizable_state(asio::use_awaitable);
  std::cout << "conflux " << conflux::version << ": the counter is at " << total << '\n';
}

int main() {
  asio::io_context io;
  conflux::transport::InProcessNetwork network;
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
  int status = 1;
  asio::co_spawn(io, count(*nodes[0]), [&](std::exception_ptr failed) {
    status = failed ? 1 : 0;
    for (auto& node : nodes) node->close(asio::detached);
  });
  io.run();
  return status;
}
