#include "apps/answer_dropper.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <stdexcept>
#include <string>

#include "apps/http_client.hpp"

namespace conflux::test {
namespace {

/// Reads one request (headers, then Content-Length bytes of body) within 5 s;
/// empty if it does not arrive whole.
std::string read_request(int fd) {
  std::string in;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::size_t needed = std::string::npos;
  while (in.size() < needed && std::chrono::steady_clock::now() < deadline) {
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, 100) <= 0) continue;
    char chunk[4096];
    const auto got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) return {};
    in.append(chunk, static_cast<std::size_t>(got));
    const auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    std::string lower(in.substr(0, end));
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto length = lower.find("content-length:");
    needed = end + 4 + (length == std::string::npos ? 0 : std::stoul(lower.substr(length + 15)));
  }
  return in.size() >= needed && needed != std::string::npos ? in : std::string();
}

}  // namespace

AnswerDropper::AnswerDropper(std::uint16_t node_port) : node_port_(node_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if (listener_ < 0 || ::bind(listener_, generic, size) != 0 || ::listen(listener_, 16) != 0 ||
      ::getsockname(listener_, generic, &size) != 0) {
    throw std::runtime_error("AnswerDropper: cannot listen on loopback");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

AnswerDropper::~AnswerDropper() {
  stopping_ = true;
  thread_.join();
  ::close(listener_);
}

void AnswerDropper::serve() {
  while (!stopping_) {
    pollfd ready{listener_, POLLIN, 0};
    if (::poll(&ready, 1, 100) <= 0) continue;
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    relay(client);
    ::close(client);
  }
}

void AnswerDropper::relay(int client) {
  const auto request = read_request(client);
  if (request.empty()) return;
  const auto line_end = request.find("\r\n");
  const auto first_space = request.find(' ');
  const auto second_space = request.find(' ', first_space + 1);
  const auto method = request.substr(0, first_space);
  const auto target = request.substr(first_space + 1, second_space - first_space - 1);
  HttpHeaders headers;
  const auto body_at = request.find("\r\n\r\n") + 4;
  for (auto at = line_end + 2; at < body_at - 2;) {
    const auto end = request.find("\r\n", at);
    const auto colon = request.find(':', at);
    const auto name = request.substr(at, colon - at);
    if (name.starts_with("Conflux-") || name == "Authorization")
      headers.emplace_back(name, request.substr(colon + 2, end - colon - 2));
    at = end + 2;
  }
  HttpConnection node(node_port_, std::chrono::seconds(5));
  const auto answer = node.request(method, target, request.substr(body_at), headers);
  if (target.starts_with("/perform/")) {
    ++dropped_;
    return;
  }
  const auto out = "HTTP/1.1 " + std::to_string(answer.status) +
                   " X\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(answer.body.size()) + "\r\nConnection: close\r\n\r\n" +
                   answer.body;
  [[maybe_unused]] const auto sent = ::send(client, out.data(), out.size(), MSG_NOSIGNAL);
}

}  // namespace conflux::test
