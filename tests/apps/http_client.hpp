#pragma once
// A blocking HTTP/1.1 client for tests, on plain POSIX sockets over
// loopback. Every wait has a deadline (poll), so a stopped or silent server
// costs a timeout and never hangs the test; Asio's synchronous reads would
// ignore SO_RCVTIMEO (they poll without a timeout on EAGAIN). Responses are
// parsed by Beast's parser fed by hand, so pipelined answers are split as a
// real client would split them.

#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace conflux::test {

/// Where an exchange failed. Only `connect` guarantees the server saw
/// nothing; after `send` or `receive` the request may have been served.
enum class HttpFailure { none, connect, send, receive };

struct HttpReply {
  unsigned status = 0;  ///< 0 when no response was read (see failure)
  HttpFailure failure = HttpFailure::none;
  std::string error;  ///< why it failed, for messages
  std::string body;
  std::map<std::string, std::string> headers;  ///< names in lower case
  bool keep_alive = false;

  std::string header(const std::string& lower_case_name) const;
};

std::ostream& operator<<(std::ostream& out, const HttpReply& reply);

/// Extra request headers: (name, value) pairs.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// One connection to 127.0.0.1:port. Each call waits at most `timeout`.
class HttpConnection {
 public:
  HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  /// Why the connection could not be made or was lost.
  const std::string& error() const { return error_; }

  /// Writes all of `bytes` (false if the peer reset or the deadline passed).
  bool send(std::string_view bytes);
  /// Reads one response; bytes after it stay buffered for the next call.
  HttpReply receive();
  /// send(request_bytes(...)) then receive().
  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& body = "", const HttpHeaders& headers = {});
  /// True if the server closes the connection (EOF or reset) within the
  /// timeout without sending anything more.
  bool closed_by_server();

 private:
  enum class Read { data, eof, failed, timed_out };
  /// Appends what arrives to buffer_; error_ says why when it fails.
  Read read_some(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  std::string error_;
};

/// An HTTP/1.1 request with Host and Content-Length (for non-empty bodies
/// and every POST), keep-alive by default.
std::string request_bytes(const std::string& method, const std::string& target,
                          const std::string& body = "", bool keep_alive = true,
                          const HttpHeaders& headers = {});

/// One request on a fresh connection.
HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = "",
                       std::chrono::milliseconds timeout = std::chrono::seconds(5),
                       const HttpHeaders& headers = {});

}  // namespace conflux::test
