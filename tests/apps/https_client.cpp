#include "apps/https_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <conflux/transport/awaitable.hpp>

namespace conflux::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using transport::as_tuple_awaitable;

asio::ssl::context client_context(const transport::TlsFiles& client) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.load_verify_file(client.authority);
  context.set_verify_mode(asio::ssl::verify_peer);
  if (!client.certificate.empty()) {
    context.use_certificate_chain_file(client.certificate);
    context.use_private_key_file(client.private_key, asio::ssl::context::pem);
  }
  return context;
}

asio::awaitable<void> exchange(tcp::endpoint server, asio::ssl::context& context,
                               http::request<http::string_body> request, HttpReply& reply) {
  tcp::socket socket(co_await asio::this_coro::executor);
  reply.failure = HttpFailure::connect;
  if (auto [ec] = co_await socket.async_connect(server, as_tuple_awaitable); ec) {
    reply.error = "connect: " + ec.message();
    co_return;
  }
  asio::ssl::stream<tcp::socket&> stream(socket, context);
  if (auto [ec] =
          co_await stream.async_handshake(asio::ssl::stream_base::client, as_tuple_awaitable);
      ec) {
    reply.error = "TLS handshake: " + ec.message();
    co_return;
  }
  reply.failure = HttpFailure::send;
  if (auto [ec, n] = co_await http::async_write(stream, request, as_tuple_awaitable); ec) {
    reply.error = "send: " + ec.message();
    co_return;
  }
  reply.failure = HttpFailure::receive;
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  if (auto [ec, n] = co_await http::async_read(stream, buffer, response, as_tuple_awaitable); ec) {
    reply.error = "receive: " + ec.message();
    co_return;
  }
  reply.failure = HttpFailure::none;
  reply.status = response.result_int();
  reply.body = response.body();
  reply.keep_alive = response.keep_alive();
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(field.value());
  }
}

}  // namespace

HttpReply https_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body, const transport::TlsFiles& client,
                        const HttpHeaders& headers, std::chrono::milliseconds timeout) {
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  if (!body.empty() || method == "POST") request.prepare_payload();
  HttpReply reply;
  auto context = client_context(client);
  asio::io_context io;
  asio::co_spawn(io,
                 exchange(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), context,
                          std::move(request), reply),
                 asio::detached);
  io.run_for(timeout);
  if (!io.stopped()) {
    reply.error = "no answer within " + std::to_string(timeout.count()) + " ms";
    io.stop();
  }
  return reply;
}

}  // namespace conflux::test
