#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <conflux/transport/port_reservation.hpp>
#include <system_error>
#include <utility>

namespace conflux::transport {

namespace {

[[noreturn]] void fail(int fd, const char* what) {
  const int error = errno;
  if (fd >= 0) ::close(fd);
  throw std::system_error(error, std::generic_category(), what);
}

}  // namespace

PortReservation::PortReservation() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) fail(fd_, "cannot open a socket to reserve a port");
  const int on = 1;
  if (::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
    fail(fd_, "cannot set SO_REUSEADDR on a port reservation");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0)
    fail(fd_, "cannot reserve a loopback port");
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    fail(fd_, "cannot read a reserved port");
  port_ = ntohs(address.sin_port);
}

PortReservation::~PortReservation() {
  if (fd_ >= 0) ::close(fd_);
}

PortReservation::PortReservation(PortReservation&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), port_(std::exchange(other.port_, 0)) {}

PortReservation& PortReservation::operator=(PortReservation&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    port_ = std::exchange(other.port_, 0);
  }
  return *this;
}

std::string PortReservation::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

}  // namespace conflux::transport
