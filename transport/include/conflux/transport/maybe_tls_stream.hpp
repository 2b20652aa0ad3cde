#pragma once
// A TCP stream with TLS over it when a context is given: the layer under
// Beast's WebSocket stream (and the HTTP read before the upgrade) in the hub,
// the WebSocket channel and the dashboard, so that one type serves both
// ws:// and wss://. Include only where Beast is used already.
//
// It is Beast's tcp_stream underneath (get_lowest_layer reaches it), so its
// expiry bounds the TLS handshake and the HTTP exchange as it bounds plain
// reads. Not movable: the TLS layer refers to the TCP one; construct it in
// place (websocket::stream<MaybeTlsStream> forwards its arguments here).

#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <conflux/transport/awaitable.hpp>
#include <memory>
#include <optional>
#include <utility>

namespace conflux::transport::detail {

class MaybeTlsStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;
  using next_layer_type = boost::beast::tcp_stream;
  using tcp = boost::asio::ip::tcp;

  /// TLS when `context` is set; the stream keeps it alive (a reload may
  /// replace the owner's context while this connection lasts).
  MaybeTlsStream(tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> context)
      : tcp_(std::move(socket)), context_(std::move(context)) {
    if (context_) tls_.emplace(tcp_, *context_);
  }
  /// Not yet connected (a client).
  MaybeTlsStream(const executor_type& executor, std::shared_ptr<boost::asio::ssl::context> context)
      : MaybeTlsStream(tcp::socket(executor), std::move(context)) {}
  MaybeTlsStream(MaybeTlsStream&&) = delete;

  executor_type get_executor() { return tcp_.get_executor(); }
  next_layer_type& next_layer() { return tcp_; }
  const next_layer_type& next_layer() const { return tcp_; }
  bool secure() const { return tls_.has_value(); }
  /// The TLS connection, or null on plaintext.
  SSL* ssl() { return tls_ ? tls_->native_handle() : nullptr; }

  /// Nothing to do on plaintext.
  boost::asio::awaitable<boost::system::error_code> handshake(
      boost::asio::ssl::stream_base::handshake_type side) {
    if (!tls_) co_return boost::system::error_code{};
    auto [ec] = co_await tls_->async_handshake(side, as_tuple_awaitable);
    co_return ec;
  }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          if (tls_) return tls_->async_read_some(b, std::move(handler));
          tcp_.async_read_some(b, std::move(handler));
        },
        token, buffers);
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          if (tls_) return tls_->async_write_some(b, std::move(handler));
          tcp_.async_write_some(b, std::move(handler));
        },
        token, buffers);
  }

  // The WebSocket close: TLS close_notify first when secure, then TCP.
  friend void teardown(boost::beast::role_type role, MaybeTlsStream& stream,
                       boost::system::error_code& ec) {
    if (stream.tls_) return boost::beast::teardown(role, *stream.tls_, ec);
    boost::beast::teardown(role, stream.tcp_, ec);
  }
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, MaybeTlsStream& stream,
                             Handler&& handler) {
    if (stream.tls_)
      return boost::beast::async_teardown(role, *stream.tls_, std::forward<Handler>(handler));
    boost::beast::async_teardown(role, stream.tcp_, std::forward<Handler>(handler));
  }

 private:
  boost::beast::tcp_stream tcp_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::optional<boost::asio::ssl::stream<boost::beast::tcp_stream&>> tls_;
};

}  // namespace conflux::transport::detail
