// PeerStream: plaintext, or TLS through memory BIOs over the same socket
// I/O (peer_stream.hpp).
#include "peer_stream.hpp"

#include <openssl/err.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <new>
#include <string>
#include <system_error>
#include <utility>

namespace conflux::transport {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

/// One socket read, over TLS: a burst of records at once.
constexpr std::size_t read_chunk_bytes = 64 << 10;

/// What OpenSSL may have written while reading and not yet sent: an alert
/// or a KeyUpdate answer is a few dozen bytes, now and then.
constexpr std::size_t max_unsent_tls_output = 64 << 10;

enum StreamError { unsent_output_overflow = 1, short_transfer };

// A std category (Boost's error_category has no virtual destructor);
// boost::system::error_code carries it.
class StreamErrors final : public std::error_category {
 public:
  const char* name() const noexcept override { return "conflux.peer_stream"; }
  std::string message(int code) const override {
    if (code == unsent_output_overflow)
      return "the peer's TLS messages (renegotiation or key update requests) made this side "
             "write over " +
             std::to_string(max_unsent_tls_output >> 10) + " KiB that it has no occasion to send";
    return "OpenSSL's memory buffer took or gave fewer bytes than asked";
  }
};

error_code stream_error(StreamError code) {
  static const StreamErrors category;
  return std::error_code(code, category);
}

}  // namespace

PeerStream::PeerStream(tcp::socket socket, std::shared_ptr<asio::ssl::context> tls)
    : context_(std::move(tls)), socket_(std::move(socket)) {
  error_code ignored;
  socket_.non_blocking(true, ignored);
  if (!context_) return;
  ssl_ = SSL_new(context_->native_handle());
  inbound_ = BIO_new(BIO_s_mem());
  outbound_ = BIO_new(BIO_s_mem());
  if (!ssl_ || !inbound_ || !outbound_) {
    BIO_free(inbound_);
    BIO_free(outbound_);
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  // An empty read BIO means "more input needed", never the end of the stream:
  // the socket says when the peer is gone.
  BIO_ctrl(inbound_, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nullptr);
  SSL_set_bio(ssl_, inbound_, outbound_);  // ssl_ owns both now
}

PeerStream::~PeerStream() {
  SSL_free(ssl_);
}

asio::awaitable<error_code> PeerStream::handshake(asio::ssl::stream_base::handshake_type side) {
  if (!ssl_) co_return error_code{};
  if (side == asio::ssl::stream_base::client) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
  for (;;) {
    ERR_clear_error();
    const int done = SSL_do_handshake(ssl_);
    const int code = done == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, done);
    // Read before the flush below suspends: OpenSSL's error queue is per thread.
    const error_code failed =
        code == SSL_ERROR_NONE || code == SSL_ERROR_WANT_READ ? error_code{} : failure(code);
    const error_code taken = take_records();  // the next flight, or the alert saying why not
    const error_code sent = co_await flush();
    if (failed) co_return failed;
    if (taken) co_return taken;
    if (sent || done == 1) co_return sent;
    if (const error_code received = co_await receive()) co_return received;
  }
}

asio::awaitable<PeerStream::Result> PeerStream::read_some(asio::mutable_buffer buffer) {
  if (!ssl_) co_return co_await socket_.async_read_some(buffer, as_tuple_awaitable);
  for (;;) {
    error_code error;
    const std::size_t opened = open_records(buffer, error);
    if (opened > 0 || error) co_return Result{error, opened};
    if (const error_code received = co_await receive()) co_return Result{received, 0};
  }
}

bool PeerStream::write_now(std::string_view frame) {
  if (!pending_.empty()) return false;
  if (ssl_ && seal(frame)) return false;  // the writer meets the failure again and ends
  const std::string_view bytes = ssl_ ? std::string_view(pending_) : frame;
  error_code ec;  // would_block, or a failure the writer will meet
  const std::size_t sent = socket_.write_some(asio::buffer(bytes), ec);
  if (ssl_) {
    pending_.erase(0, sent);
  } else {
    pending_.assign(frame.substr(sent));
  }
  return true;
}

asio::awaitable<PeerStream::Result> PeerStream::write(const std::vector<std::string>& frames) {
  std::size_t bytes = 0;
  for (const auto& frame : frames) bytes += frame.size();
  if (!ssl_) {  // one gathered write: the pending bytes, then each frame
    std::vector<asio::const_buffer> buffers{asio::buffer(pending_)};
    for (const auto& frame : frames) buffers.push_back(asio::buffer(frame));
    auto [ec, sent] = co_await asio::async_write(socket_, buffers, as_tuple_awaitable);
    pending_.clear();
    co_return Result{ec, ec ? 0 : bytes};
  }
  joined_.clear();
  joined_.reserve(bytes);
  for (const auto& frame : frames) joined_ += frame;
  if (const error_code sealed = seal(joined_)) co_return Result{sealed, 0};
  const error_code sent = co_await flush();
  co_return Result{sent, sent ? 0 : bytes};
}

asio::awaitable<PeerStream::Result> PeerStream::write(std::string_view frame) {
  if (ssl_) {
    if (const error_code sealed = seal(frame)) co_return Result{sealed, 0};
  } else {
    pending_ += frame;
  }
  const error_code sent = co_await flush();
  co_return Result{sent, sent ? 0 : frame.size()};
}

error_code PeerStream::seal(std::string_view plain) {
  if (plain.empty()) return {};
  std::size_t written = 0;
  ERR_clear_error();
  // A memory BIO never blocks: all of `plain` becomes records, or it fails.
  if (const int ok = SSL_write_ex(ssl_, plain.data(), plain.size(), &written); ok != 1)
    return failure(SSL_get_error(ssl_, ok));
  if (written != plain.size()) return stream_error(short_transfer);
  return take_records();
}

error_code PeerStream::take_records() {
  const std::size_t size = BIO_ctrl_pending(outbound_);
  if (size == 0) return {};
  const std::size_t at = pending_.size();
  pending_.resize(at + size);
  if (BIO_read(outbound_, pending_.data() + at, static_cast<int>(size)) != static_cast<int>(size)) {
    pending_.resize(at);
    return stream_error(short_transfer);
  }
  return {};
}

asio::awaitable<error_code> PeerStream::flush() {
  if (pending_.empty()) co_return error_code{};
  auto [ec, sent] = co_await asio::async_write(socket_, asio::buffer(pending_), as_tuple_awaitable);
  pending_.clear();  // on failure the connection ends, and Raft retransmits
  co_return ec;
}

std::size_t PeerStream::open_records(asio::mutable_buffer buffer, error_code& error) {
  if (deferred_) {
    error = std::exchange(deferred_, error_code{});
    return 0;
  }
  auto* const into = static_cast<char*>(buffer.data());
  std::size_t total = 0;
  error_code met;
  while (total < buffer.size()) {
    std::size_t opened = 0;
    ERR_clear_error();
    const int ok = SSL_read_ex(ssl_, into + total, buffer.size() - total, &opened);
    if (ok == 1) {
      total += opened;
      continue;
    }
    const int code = SSL_get_error(ssl_, ok);
    if (code != SSL_ERROR_WANT_READ) met = failure(code);  // now: the error queue is this call's
    break;
  }
  if (!met && BIO_ctrl_pending(outbound_) > max_unsent_tls_output)
    met = stream_error(unsent_output_overflow);
  (total == 0 ? error : deferred_) = met;  // the plaintext first
  return total;
}

asio::awaitable<error_code> PeerStream::receive() {
  input_.resize(read_chunk_bytes);
  auto [ec, received] = co_await socket_.async_read_some(asio::buffer(input_), as_tuple_awaitable);
  // A close_notify would have ended the stream in SSL_read first.
  if (ec == asio::error::eof) co_return error_code(asio::ssl::error::stream_truncated);
  if (ec) co_return ec;
  // A memory BIO grows to take it all.
  if (BIO_write(inbound_, input_.data(), static_cast<int>(received)) != static_cast<int>(received))
    co_return stream_error(short_transfer);
  co_return error_code{};
}

error_code PeerStream::failure(int ssl_error) const {
  if (ssl_error == SSL_ERROR_ZERO_RETURN) return asio::error::eof;  // close_notify
  if (const unsigned long reason = ERR_get_error(); reason != 0)
    return {static_cast<int>(reason), asio::error::get_ssl_category()};
  return asio::ssl::error::unexpected_result;
}

}  // namespace conflux::transport
