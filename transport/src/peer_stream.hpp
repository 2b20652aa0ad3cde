#pragma once
// One mesh connection's byte stream: the TCP socket, with TLS over it when
// the mesh has certificates (tls_context.hpp). The mesh reads, writes and
// shakes hands through it without caring which.
//
// TLS is our own thin record layer: OpenSSL encrypts into and decrypts from
// memory BIOs, and the socket I/O is the plaintext path's own (non-blocking
// sends from the caller's stack, gathered writes, 64 KiB reads). So a batch
// of frames is one SSL_write and one system call, and one socket read
// decrypts every record it brought, with no extra trip through the
// scheduler per record (Asio's SSL stream took one per record and per
// write, through a 17 KiB BIO pair).
//
// Invariant: ciphertext leaves in the order OpenSSL produced it. Whatever a
// direct write could not send waits in `pending_`, and everything written
// later is appended behind it. What OpenSSL writes while reading (an alert,
// the answer to a TLS 1.3 KeyUpdate) stays in its write BIO and leaves
// ahead of the next records sealed, as RFC 8446 §4.6.3 asks; a peer that
// keeps provoking such output (an accepting side never writes after its
// welcome) fails the connection past max_unsent_tls_output.

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <conflux/transport/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace conflux::transport {

class PeerStream {
 public:
  using tcp = boost::asio::ip::tcp;
  using Result = std::tuple<boost::system::error_code, std::size_t>;

  /// TLS when `tls` is set. The stream keeps the context alive: a reload
  /// may replace the mesh's context while this connection lasts. The socket
  /// becomes non-blocking (for write_now).
  PeerStream(tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls);
  ~PeerStream();
  PeerStream(const PeerStream&) = delete;
  PeerStream& operator=(const PeerStream&) = delete;

  tcp::socket& socket() { return socket_; }
  bool secure() const { return ssl_ != nullptr; }
  SSL* ssl() { return ssl_; }

  /// Nothing to do on plaintext. On failure, the alert OpenSSL wrote is
  /// sent (best effort) so the peer learns why.
  boost::asio::awaitable<boost::system::error_code> handshake(
      boost::asio::ssl::stream_base::handshake_type side);

  /// Some bytes into `buffer`: over TLS, the plaintext of every record
  /// already received that fits, reading the socket only when there is
  /// none. The peer's close is asio::error::eof, or over TLS
  /// ssl::error::stream_truncated when it skipped close_notify.
  boost::asio::awaitable<Result> read_some(boost::asio::mutable_buffer buffer);

  /// From the caller's stack, while no asynchronous write is in progress
  /// (the mesh's writer is idle) and nothing is pending: takes all of
  /// `frame` and sends what the socket accepts without waiting; the rest
  /// waits in pending_output() for the writer. False, taking nothing, when
  /// output is already pending (it must leave first).
  bool write_now(std::string_view frame);
  /// Output taken but not yet sent (see write_now).
  bool pending_output() const { return !pending_.empty(); }

  /// The pending output, then `frames` (as one run of TLS records over
  /// TLS): the result's size counts the frames' bytes.
  boost::asio::awaitable<Result> write(const std::vector<std::string>& frames);
  boost::asio::awaitable<Result> write(std::string_view frame);

 private:
  /// TLS: encrypts `plain` and appends the records to pending_.
  boost::system::error_code seal(std::string_view plain);
  /// TLS: moves what OpenSSL wrote into the write BIO to pending_.
  boost::system::error_code take_records();
  /// Sends pending_ and empties it.
  boost::asio::awaitable<boost::system::error_code> flush();
  /// TLS: plaintext of the records received so far, or 0 with `error` set
  /// when the connection failed or ended, or 0 when more input is needed.
  /// A failure met after some plaintext is reported by the next call.
  std::size_t open_records(boost::asio::mutable_buffer buffer, boost::system::error_code& error);
  /// TLS: reads the socket once into the read BIO.
  boost::asio::awaitable<boost::system::error_code> receive();
  boost::system::error_code failure(int ssl_error) const;

  std::shared_ptr<boost::asio::ssl::context> context_;
  tcp::socket socket_;
  SSL* ssl_ = nullptr;
  BIO* inbound_ = nullptr;   // records received, owned by ssl_
  BIO* outbound_ = nullptr;  // records to send, owned by ssl_
  std::string pending_;      // bytes for the socket, in order
  std::string joined_;       // TLS: a batch of frames, sealed at once
  std::vector<char> input_;  // TLS: one socket read
  // TLS: a failure met after some plaintext was returned, for the next read.
  boost::system::error_code deferred_;
};

}  // namespace conflux::transport
