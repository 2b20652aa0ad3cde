// A todo list with a typed state: the reducer and the methods use plain
// structs, converted through Boost.JSON (conflux/typed.hpp). Three nodes in
// one process; built and run by CTest.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <iostream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace json = boost::json;

struct Todo {
  std::string text;
  bool done = false;
};
struct Todos {
  std::vector<Todo> items;
};
/// An action: add a todo, or mark the one at `index` done.
struct Change {
  std::string op;  // "add" or "done"
  std::string text;
  std::int64_t index = 0;
};

// Boost.JSON conversions: a struct is a JSON object.
void tag_invoke(json::value_from_tag, json::value& v, const Todo& t) {
  v = {{"text", t.text}, {"done", t.done}};
}
Todo tag_invoke(json::value_to_tag<Todo>, const json::value& v) {
  return {json::value_to<std::string>(v.at("text")), v.at("done").as_bool()};
}
void tag_invoke(json::value_from_tag, json::value& v, const Todos& t) {
  v = {{"items", json::value_from(t.items)}};
}
Todos tag_invoke(json::value_to_tag<Todos>, const json::value& v) {
  return {json::value_to<std::vector<Todo>>(v.at("items"))};
}
void tag_invoke(json::value_from_tag, json::value& v, const Change& c) {
  v = {{"op", c.op}, {"text", c.text}, {"index", c.index}};
}
Change tag_invoke(json::value_to_tag<Change>, const json::value& v) {
  return {json::value_to<std::string>(v.at("op")), json::value_to<std::string>(v.at("text")),
          v.at("index").to_number<std::int64_t>()};
}

Todos reduce(Todos todos, const Change& change) {
  if (change.op == "add") todos.items.push_back({change.text, false});
  if (change.op == "done" && change.index >= 0 && change.index < std::ssize(todos.items)) {
    todos.items[static_cast<std::size_t>(change.index)].done = true;
  }
  return todos;
}

Change add(const Todos&, std::string text) {
  if (text.empty()) throw conflux::Rejection("a todo needs a text");
  return {"add", std::move(text), 0};
}

Change finish(const Todos& todos, std::int64_t index) {
  if (index < 0 || index >= std::ssize(todos.items)) throw conflux::Rejection("no such todo");
  if (todos.items[static_cast<std::size_t>(index)].done) throw conflux::Rejection("already done");
  return {"done", "", index};
}

asio::awaitable<void> use(conflux::Node& node) {
  const json::array milk{"buy milk"};  // g++ 12: build braced lists outside co_await
  const json::array first{0};
  co_await node.perform("add", milk, asio::use_awaitable);
  co_await node.perform("finish", first, asio::use_awaitable);
  try {
    co_await node.perform("finish", first, asio::use_awaitable);
  } catch (const conflux::Error& error) {
    std::cout << "refused: " << error.what() << '\n';  // already done
  }
  std::cout << "state: " << node.state() << '\n';
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
    options.reduce = conflux::typed_reducer<Todos, Change>(reduce);
    options.methods["add"] = conflux::typed_method<Todos, Change, std::string>(add);
    options.methods["finish"] = conflux::typed_method<Todos, Change, std::int64_t>(finish);
    nodes.push_back(std::make_unique<conflux::Node>(io.get_executor(), options));
  }
  asio::co_spawn(io, use(*nodes[2]), [&](std::exception_ptr) {
    for (auto& node : nodes) node->close(asio::detached);
  });
  io.run();
}
