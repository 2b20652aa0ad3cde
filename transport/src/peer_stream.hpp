#pragma once
// One mesh connection's byte stream: the TCP socket, with TLS over it when
// the mesh has certificates (tls_context.hpp). The mesh reads, writes and
// shakes hands through it without caring which.

#include <poll.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <conflux/transport/awaitable.hpp>
#include <memory>
#include <optional>
#include <string_view>

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
  /// Over TLS, after a read: the plaintext of the next record if it is
  /// already received whole, without waiting, else 0 (always 0 on
  /// plaintext). SSL_read yields one record per call, and a read through
  /// the stream that needs no I/O still costs a trip through the scheduler,
  /// so draining here saves one per small record (a burst of acks arrives
  /// as one record each). An error (an alert, a bad record) is left for the
  /// next read through the stream to report.
  std::size_t read_buffered(boost::asio::mutable_buffer buffer) {
    if (!secure_) return 0;
    std::size_t read = 0;
    ERR_clear_error();
    if (SSL_read_ex(secure_->native_handle(), buffer.data(), buffer.size(), &read) == 1)
      return read;
    ERR_clear_error();
    return 0;
  }

  /// From the caller's stack, while no asynchronous write is in progress
  /// (the mesh's writer is idle): writes what it can of `bytes` without
  /// waiting, and returns how much. Plaintext: one non-blocking send.
  /// TLS: all of it as one record, or nothing: only when poll() says the
  /// socket is writable, which for a frame this small (the caller's limit,
  /// far below the send buffer) means the kernel takes it at once, so the
  /// record is never left half written in the TLS engine. (Only global TCP
  /// memory pressure could still make that write wait.)
  std::size_t write_now(std::string_view bytes) {
    boost::system::error_code ec;
    if (!secure_) return plain_->write_some(boost::asio::buffer(bytes), ec);
    pollfd writable{socket().native_handle(), POLLOUT, 0};
    if (::poll(&writable, 1, 0) != 1 || (writable.revents & POLLOUT) == 0) return 0;
    const auto written = boost::asio::write(*secure_, boost::asio::buffer(bytes), ec);
    if (!ec) return written;
    // Part of a record may have gone out (a signal interrupted a wait):
    // nothing may follow it on this connection. The link dials again.
    socket().close(ec);
    return 0;
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
