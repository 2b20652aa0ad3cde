#include "http_exchange.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/tls_context.hpp>

namespace conflux::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using transport::as_tuple_awaitable;

/// Writes `call` and reads the answer on a connected stream.
template <class Stream>
asio::awaitable<HttpAnswer> send(Stream& stream, const std::string& host, const HttpCall& call) {
  http::request<http::string_body> out{http::string_to_verb(call.method), call.target, 11};
  out.set(http::field::host, host);
  out.set(http::field::user_agent, "conflux");
  if (!call.body.empty()) out.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : call.headers) out.set(name, value);
  out.body() = call.body;
  out.prepare_payload();
  auto [write_error, written] = co_await http::async_write(stream, out, as_tuple_awaitable);
  // Once a byte may have left, the node may act on the request.
  const auto reach = written > 0 ? HttpAnswer::Reach::sent : HttpAnswer::Reach::not_sent;
  if (write_error) co_return HttpAnswer{reach, 0, {}, "cannot send: " + write_error.message()};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);  // a whole state can be large
  auto [read_error, read] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
  if (read_error) co_return HttpAnswer{reach, 0, {}, "no answer: " + read_error.message()};
  auto answer = parser.release();
  co_return HttpAnswer{
      HttpAnswer::Reach::answered, answer.result_int(), std::move(answer.body()), {}};
}

HttpAnswer not_sent(std::string problem) {
  return {HttpAnswer::Reach::not_sent, 0, {}, std::move(problem)};
}

}  // namespace

asio::awaitable<HttpAnswer> http_exchange(std::string address, asio::ssl::context* tls,
                                          HttpCall call, std::chrono::milliseconds timeout) {
  const auto [host, port] = transport::split_address(address);
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  asio::steady_timer resolving(executor, timeout);  // the resolver has no deadline of its own
  resolving.async_wait([&resolver](boost::system::error_code ec) {
    if (!ec) resolver.cancel();
  });
  auto [resolve_error, found] = co_await resolver.async_resolve(host, port, as_tuple_awaitable);
  resolving.cancel();
  if (resolve_error) co_return not_sent("cannot resolve " + host + ": " + resolve_error.message());
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  auto [connect_error, ignored] = co_await stream.async_connect(found, as_tuple_awaitable);
  if (connect_error) co_return not_sent("cannot connect: " + connect_error.message());
  if (!tls) co_return co_await send(stream, address, call);
  asio::ssl::stream<beast::tcp_stream&> secure(stream, *tls);
  auto [handshake_error] =
      co_await secure.async_handshake(asio::ssl::stream_base::client, as_tuple_awaitable);
  if (handshake_error) {
    const auto failure =
        transport::detail::handshake_failure(secure.native_handle(), handshake_error);
    co_return not_sent("TLS handshake: " + failure.text);
  }
  co_return co_await send(secure, address, call);
}

}  // namespace conflux::client
