#include "apps/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace conflux::test {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

/// Waits until `fd` is ready for `events`; false at the deadline.
bool wait_ready(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left.count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

// Non-blocking connect, so a server whose backlog is full (it is stopped)
// cannot hold the test past the deadline.
int connect_loopback(std::uint16_t port, Clock::time_point deadline, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int result = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  if (result < 0 && errno == EINPROGRESS) {
    int code = ETIMEDOUT;
    socklen_t size = sizeof code;
    if (wait_ready(fd, POLLOUT, deadline)) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &size);
    errno = code;
    result = code == 0 ? 0 : -1;
  }
  if (result < 0) {
    error = "connect to port " + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpReply failed(HttpFailure failure, std::string error) {
  HttpReply reply;
  reply.failure = failure;
  reply.error = std::move(error);
  return reply;
}

HttpReply reply_from(http::response_parser<http::string_body>& parser) {
  auto message = parser.release();
  HttpReply reply;
  reply.status = message.result_int();
  reply.keep_alive = message.keep_alive();
  for (const auto& field : message) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    reply.headers[name] = std::string(field.value());
  }
  reply.body = std::move(message.body());
  return reply;
}

}  // namespace

std::string HttpReply::header(const std::string& lower_case_name) const {
  const auto found = headers.find(lower_case_name);
  return found == headers.end() ? std::string() : found->second;
}

std::ostream& operator<<(std::ostream& out, const HttpReply& reply) {
  if (reply.status == 0) return out << "no response (" << reply.error << ")";
  return out << reply.status << ' ' << reply.body;
}

HttpConnection::HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  fd_ = connect_loopback(port, Clock::now() + timeout, error_);
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpConnection::send(std::string_view bytes) {
  const auto deadline = Clock::now() + timeout_;
  while (!bytes.empty()) {
    if (fd_ < 0) return false;
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      error_ = std::string("send: ") + std::strerror(errno);
      return false;
    } else if (!wait_ready(fd_, POLLOUT, deadline)) {
      error_ = "send: timed out";
      return false;
    }
  }
  return true;
}

HttpConnection::Read HttpConnection::read_some(Clock::time_point deadline) {
  if (fd_ < 0) return Read::failed;
  char chunk[16 * 1024];
  for (;;) {
    const auto n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return Read::data;
    }
    if (n == 0) {
      error_ = "receive: the server closed the connection";
      return Read::eof;
    }
    if (errno != EAGAIN && errno != EINTR) {
      error_ = std::string("receive: ") + std::strerror(errno);
      return Read::failed;
    }
    if (!wait_ready(fd_, POLLIN, deadline)) {
      error_ = "receive: no answer within " + std::to_string(timeout_.count()) + " ms";
      return Read::timed_out;
    }
  }
}

HttpReply HttpConnection::receive() {
  const auto deadline = Clock::now() + timeout_;
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  while (!parser.is_done()) {
    if (!buffer_.empty()) {
      boost::beast::error_code ec;
      const auto used = parser.put(boost::asio::buffer(buffer_), ec);
      buffer_.erase(0, used);
      if (ec && ec != http::error::need_more)
        return failed(HttpFailure::receive, "bad response: " + ec.message());
      if (parser.is_done()) break;
      if (used > 0 && !buffer_.empty()) continue;  // the parser may take more now
    }
    if (read_some(deadline) != Read::data) return failed(HttpFailure::receive, error_);
  }
  return reply_from(parser);
}

HttpReply HttpConnection::request(const std::string& method, const std::string& target,
                                  const std::string& body, const HttpHeaders& headers) {
  if (!connected()) return failed(HttpFailure::connect, error_);
  if (!send(request_bytes(method, target, body, true, headers))) {
    return failed(HttpFailure::send, error_);
  }
  return receive();
}

bool HttpConnection::closed_by_server() {
  const auto read = read_some(Clock::now() + timeout_);
  return read == Read::eof || read == Read::failed;  // failed: reset by the server
}

std::string request_bytes(const std::string& method, const std::string& target,
                          const std::string& body, bool keep_alive, const HttpHeaders& headers) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST") {
    out +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  return out + "\r\n" + body;
}

HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body, std::chrono::milliseconds timeout,
                       const HttpHeaders& headers) {
  HttpConnection connection(port, timeout);
  return connection.request(method, target, body, headers);
}

}  // namespace conflux::test
