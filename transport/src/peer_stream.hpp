#pragma once
// One mesh connection's byte stream: the TCP socket, with TLS over it when
// the mesh has certificates (tls_context.hpp). The mesh reads, writes and
// shakes hands through it without caring which.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <conflux/transport/awaitable.hpp>
#include <memory>
#include <optional>

namespace conflux::transport {

class PeerStream {
 public:
  using tcp = boost::asio::ip::tcp;

  /// TLS when `tls` is set. The stream keeps the context alive: a reload
  /// may replace the mesh's context while this connection lasts.
  PeerStream(tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls)
      : context_(std::move(tls)) {
    if (context_) {
      secure_.emplace(std::move(socket), *context_);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  tcp::socket& socket() { return secure_ ? secure_->next_layer() : *plain_; }
  bool secure() const { return secure_.has_value(); }
  SSL* ssl() { return secure_ ? secure_->native_handle() : nullptr; }

  /// Nothing to do on plaintext.
  boost::asio::awaitable<boost::system::error_code> handshake(
      boost::asio::ssl::stream_base::handshake_type side) {
    if (!secure_) co_return boost::system::error_code{};
    auto [ec] = co_await secure_->async_handshake(side, as_tuple_awaitable);
    co_return ec;
  }
  template <class Buffers>
  auto read_some(const Buffers& buffers) {
    return secure_ ? secure_->async_read_some(buffers, as_tuple_awaitable)
                   : plain_->async_read_some(buffers, as_tuple_awaitable);
  }
  template <class Buffers>
  auto write(const Buffers& buffers) {
    return secure_ ? boost::asio::async_write(*secure_, buffers, as_tuple_awaitable)
                   : boost::asio::async_write(*plain_, buffers, as_tuple_awaitable);
  }

 private:
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::optional<boost::asio::ssl::stream<tcp::socket>> secure_;
  std::optional<tcp::socket> plain_;
};

}  // namespace conflux::transport
