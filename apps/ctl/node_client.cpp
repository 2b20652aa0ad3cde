#include "node_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/tls_context.hpp>
#include <stdexcept>

#include "flag_reader.hpp"

namespace conflux::ctl {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using transport::as_tuple_awaitable;

/// Writes `request` and reads the answer on a connected stream.
template <class Stream>
asio::awaitable<Reply> send(Stream& stream, const std::string& host, const Request& request) {
  http::request<http::string_body> out{http::string_to_verb(request.method), request.target, 11};
  out.set(http::field::host, host);
  out.set(http::field::user_agent, "conflux-ctl");
  if (!request.body.empty()) out.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : request.headers) out.set(name, value);
  out.body() = request.body;
  out.prepare_payload();
  auto [write_error, written] = co_await http::async_write(stream, out, as_tuple_awaitable);
  // Once a byte may have left, the node may act on the request.
  const auto reach = written > 0 ? Reply::Reach::sent : Reply::Reach::not_sent;
  if (write_error) co_return Reply{reach, 0, {}, "cannot send: " + write_error.message()};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);  // a whole state can be large
  auto [read_error, read] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
  if (read_error) co_return Reply{reach, 0, {}, "no answer: " + read_error.message()};
  auto answer = parser.release();
  co_return Reply{Reply::Reach::answered, answer.result_int(), std::move(answer.body()), {}};
}

ssl::context client_context(const Connection& connection) {
  ssl::context context(ssl::context::tls_client);
  context.set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  context.load_verify_file(connection.authority);
  context.set_verify_mode(ssl::verify_peer);
  if (!connection.certificate.empty()) {
    context.use_certificate_chain_file(connection.certificate);
    context.use_private_key_file(connection.private_key, ssl::context::pem);
  }
  return context;
}

asio::awaitable<Reply> call(const Connection& connection, bool tls, std::string address,
                            Request request, std::chrono::milliseconds timeout) {
  const auto [host, port] = transport::split_address(address);
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  asio::steady_timer resolving(executor, timeout);  // the resolver has no deadline of its own
  resolving.async_wait([&resolver](boost::system::error_code ec) {
    if (!ec) resolver.cancel();
  });
  auto [resolve_error, found] = co_await resolver.async_resolve(host, port, as_tuple_awaitable);
  resolving.cancel();
  if (resolve_error)
    co_return Reply{
        Reply::Reach::not_sent, 0, {}, "cannot resolve " + host + ": " + resolve_error.message()};
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  auto [connect_error, ignored] = co_await stream.async_connect(found, as_tuple_awaitable);
  if (connect_error)
    co_return Reply{Reply::Reach::not_sent, 0, {}, "cannot connect: " + connect_error.message()};
  if (!tls) co_return co_await send(stream, address, request);
  auto context = client_context(connection);
  ssl::stream<beast::tcp_stream&> secure(stream, context);
  auto [handshake_error] =
      co_await secure.async_handshake(ssl::stream_base::client, as_tuple_awaitable);
  if (handshake_error) {
    const auto failure =
        transport::detail::handshake_failure(secure.native_handle(), handshake_error);
    co_return Reply{Reply::Reach::not_sent, 0, {}, "TLS handshake: " + failure.text};
  }
  co_return co_await send(secure, address, request);
}

}  // namespace

std::pair<bool, std::string> parse_endpoint(const std::string& endpoint, bool default_tls) {
  auto tls = default_tls;
  auto address = endpoint;
  if (endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
    tls = endpoint.starts_with("https://");
    address = endpoint.substr(tls ? 8 : 7);
  }
  if (!address.empty() && address.back() == '/') address.pop_back();
  try {
    transport::split_address(address);
  } catch (const std::invalid_argument& error) {
    throw cli::FlagError("endpoint \"" + endpoint + "\": " + error.what());
  }
  return {tls, address};
}

Reply exchange(const Connection& connection, const std::string& endpoint, const Request& request,
               std::chrono::milliseconds timeout) {
  const auto [tls, address] = parse_endpoint(endpoint, !connection.authority.empty());
  if (tls && connection.authority.empty()) {
    return Reply{Reply::Reach::not_sent, 0, {}, "https needs --cacert, the nodes' authority"};
  }
  asio::io_context io(1);
  Reply reply{Reply::Reach::not_sent, 0, {}, "timed out"};
  asio::co_spawn(io, call(connection, tls, address, request, timeout),
                 [&reply](std::exception_ptr failed, Reply done) {
                   if (!failed) {
                     reply = std::move(done);
                     return;
                   }
                   try {
                     std::rethrow_exception(failed);
                   } catch (const std::exception& error) {
                     reply.problem = error.what();  // a TLS file that does not load
                   }
                 });
  io.run();
  return reply;
}

}  // namespace conflux::ctl
