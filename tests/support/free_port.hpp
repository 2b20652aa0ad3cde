#pragma once
// An ephemeral TCP port on loopback that was free a moment ago: bind port 0,
// read what the kernel chose, release it. Another process may take it before
// the caller binds; on loopback in a test that is rare enough to accept.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

namespace conflux::test {

inline std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

}  // namespace conflux::test
