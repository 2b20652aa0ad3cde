#pragma once
// A raw TLS client for tests of refusals: it presents whatever certificate
// it is given (another authority's, an expired one, one naming another id:
// what a node itself refuses to start with), sends some bytes, and keeps
// what comes back until the connection ends.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/tls.hpp>
#include <memory>
#include <string>

namespace conflux::test {

struct TlsExchange {
  explicit TlsExchange(const transport::TlsFiles& client)
      : context(boost::asio::ssl::context::tls_client) {
    context.use_certificate_chain_file(client.certificate);
    context.use_private_key_file(client.private_key, boost::asio::ssl::context::pem);
  }
  boost::asio::ssl::context context;  // the server's certificate is not checked
  std::string received;               // or "connect: ...", "handshake: ..."
  bool done = false;                  // the server closed, or the exchange failed
};

/// Starts dialling 127.0.0.1:`port` on `io` with `client`'s certificate and
/// key, writing `bytes` once the TLS handshake is through.
inline std::shared_ptr<TlsExchange> start_tls_exchange(boost::asio::io_context& io,
                                                       std::uint16_t port,
                                                       const transport::TlsFiles& client,
                                                       std::string bytes) {
  namespace asio = boost::asio;
  using transport::as_tuple_awaitable;
  auto exchange = std::make_shared<TlsExchange>(client);
  const auto run = [](asio::io_context& context, std::shared_ptr<TlsExchange> x, std::uint16_t to,
                      std::string out) -> asio::awaitable<void> {
    asio::ip::tcp::socket socket(context);
    const asio::ip::tcp::endpoint server(asio::ip::make_address("127.0.0.1"), to);
    if (auto [ec] = co_await socket.async_connect(server, as_tuple_awaitable); ec) {
      x->received = "connect: " + ec.message();
    } else {
      asio::ssl::stream<asio::ip::tcp::socket&> stream(socket, x->context);
      auto [handshake] =
          co_await stream.async_handshake(asio::ssl::stream_base::client, as_tuple_awaitable);
      if (handshake) {
        x->received = "handshake: " + handshake.message();
      } else {
        co_await asio::async_write(stream, asio::buffer(out), as_tuple_awaitable);
        char buffer[4096];
        for (;;) {
          auto [read_error, n] =
              co_await stream.async_read_some(asio::buffer(buffer), as_tuple_awaitable);
          if (read_error) break;
          x->received.append(buffer, n);
        }
      }
    }
    x->done = true;
  };
  asio::co_spawn(io, run(io, exchange, port, std::move(bytes)), asio::detached);
  return exchange;
}

/// The same on an io_context of its own, for a server in another process:
/// what came back within `timeout`.
inline std::string tls_exchange(std::uint16_t port, const transport::TlsFiles& client,
                                std::string bytes,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  boost::asio::io_context io;
  const auto exchange = start_tls_exchange(io, port, client, std::move(bytes));
  io.run_for(timeout);
  return exchange->received;
}

}  // namespace conflux::test
