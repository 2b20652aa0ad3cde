// An async HTTP server whose request handler co_awaits perform(): the
// pattern most Conflux users start from. One node (a single-node cluster
// leads at once) serves a counter:
//
//   POST /incr   -> performs incr(1); answers {"state": ...} once committed
//   GET  /state  -> the committed state
//
// Run with --self-test, it also sends itself three requests over loopback and
// exits 0 if the answers are right (CTest does that).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <cstdint>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response reply(const Request& request, http::status status, const json::value& body) {
  Response response{status, request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = json::serialize(body);
  response.prepare_payload();
  return response;
}

asio::awaitable<Response> handle(conflux::Node& node, const Request& request) {
  if (request.method() == http::verb::post && request.target() == "/incr") {
    const json::array one{1};  // g++ 12: build braced lists outside co_await
    try {
      co_await node.perform("incr", one, asio::use_awaitable);
      co_return reply(request, http::status::ok, {{"state", node.state()}});
    } catch (const conflux::Error& error) {
      co_return reply(request, http::status::conflict, {{"error", error.what()}});
    }
  }
  if (request.method() == http::verb::get && request.target() == "/state") {
    co_return reply(request, http::status::ok, {{"state", node.state()}});
  }
  co_return reply(request, http::status::not_found, {{"error", "no such route"}});
}

// One connection: read a request, answer it, until the client closes.
asio::awaitable<void> session(conflux::Node& node, tcp::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    Request request;
    auto [read_error, read] =
        co_await http::async_read(socket, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return;  // closed, or a malformed request
    Response response = co_await handle(node, request);
    auto [write_error, written] =
        co_await http::async_write(socket, response, asio::as_tuple(asio::use_awaitable));
    if (write_error || !response.keep_alive()) co_return;
  }
}

asio::awaitable<void> serve(conflux::Node& node, tcp::acceptor& acceptor) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (error) co_return;  // the acceptor was closed
    asio::co_spawn(acceptor.get_executor(), session(node, std::move(socket)), asio::detached);
  }
}

// The self-test client: two increments and a read, on one connection.
asio::awaitable<bool> self_test(tcp::endpoint server) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(server, asio::use_awaitable);
  beast::flat_buffer buffer;
  std::string last;
  for (const auto& [verb, target] : {std::pair{http::verb::post, "/incr"},
                                     {http::verb::post, "/incr"},
                                     {http::verb::get, "/state"}}) {
    Request request{verb, target, 11};
    request.set(http::field::host, "localhost");
    co_await http::async_write(socket, request, asio::use_awaitable);
    Response response;
    co_await http::async_read(socket, buffer, response, asio::use_awaitable);
    last = response.body();
  }
  std::cout << "GET /state -> " << last << '\n';
  co_return json::parse(last).at("state") == json::value{{"value", 2}};
}

int main(int argc, char** argv) {
  const bool testing = argc > 1 && std::string(argv[1]) == "--self-test";
  asio::io_context io;
  conflux::transport::InProcessNetwork network;
  conflux::Options options;
  options.id = "solo";
  options.peers = {{"solo", ""}};
  options.channel = conflux::InProcessChannelOptions{&network};
  // A reducer that updates the state in place: the sum is computed (and
  // checked) before anything changes, so a throw leaves the state as it was.
  options.reduce_in_place = [](json::value& state, const json::value& action) {
    if (!state.is_object()) state = {{"value", 0}};
    if (!action.is_object()) return;
    const std::int64_t value = state.at("value").as_int64();
    const std::int64_t add = action.at("add").as_int64();
    using limits = std::numeric_limits<std::int64_t>;
    if (add > 0 ? value > limits::max() - add : value < limits::min() - add)
      throw std::overflow_error("the sum does not fit in 64 bits");
    state.at("value") = value + add;
  };
  options.methods["incr"] = [](const json::value&, const json::array& args) -> json::value {
    return {{"add", args.at(0)}};
  };
  conflux::Node node(io.get_executor(), options);
  const asio::ip::port_type port = testing ? 0 : 8080;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), port});
  std::cout << "serving on http://" << acceptor.local_endpoint() << '\n';
  asio::co_spawn(io, serve(node, acceptor), asio::detached);
  int status = 0;
  if (testing) {
    asio::co_spawn(io, self_test(acceptor.local_endpoint()),
                   [&](std::exception_ptr error, bool ok) {
                     status = error || !ok ? 1 : 0;
                     acceptor.close();
                     node.close(asio::detached);
                   });
  }
  io.run();
  return status;
}
