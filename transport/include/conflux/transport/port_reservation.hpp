#pragma once
// A loopback TCP port held for a server that this process, or a child it
// starts, will listen on later.
//
// Picking a free port by binding port 0 and releasing it races: until the
// server binds, any other process's bind(0) or outgoing connect() may take
// the same port (both draw from the same ephemeral range). A reservation
// instead keeps a socket bound to the port with SO_REUSEADDR, never
// listening, for as long as it lives. On Linux that socket
//   - keeps the port from every bind(0) and every connect()'s choice of a
//     local port, and from a bind without SO_REUSEADDR;
//   - still lets a server that sets SO_REUSEADDR (ours, redis-server) bind
//     and listen on it, as often as it restarts.
// The socket is close-on-exec, so a child never inherits it.

#include <cstdint>
#include <string>

namespace conflux::transport {

class PortReservation {
 public:
  /// Reserves a port on 127.0.0.1 the kernel chooses; throws
  /// std::system_error when no socket can be bound.
  PortReservation();
  ~PortReservation();
  PortReservation(PortReservation&& other) noexcept;
  PortReservation& operator=(PortReservation&& other) noexcept;
  PortReservation(const PortReservation&) = delete;
  PortReservation& operator=(const PortReservation&) = delete;

  std::uint16_t port() const { return port_; }
  /// "127.0.0.1:<port>"
  std::string address() const;

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace conflux::transport
