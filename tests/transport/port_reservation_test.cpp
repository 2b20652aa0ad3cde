// A reserved port refuses a plain bind, yet our servers, which bind with
// SO_REUSEADDR, listen on it as often as they restart. (That the kernel's
// own choices, bind(0) and connect(), skip a bound port is Linux's rule,
// not something a test here can force: they draw from a range of
// thousands, and bind(0) and connect() favour odd and even ports.)

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <conflux/transport/port_reservation.hpp>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

tcp::endpoint loopback(std::uint16_t port) {
  return {asio::ip::make_address("127.0.0.1"), port};
}

/// Binds `port` as our acceptors do; false if the kernel refuses.
bool listens_on(asio::io_context& io, std::uint16_t port) {
  tcp::acceptor acceptor(io, tcp::v4());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  boost::system::error_code error;
  acceptor.bind(loopback(port), error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  return !error;
}

}  // namespace

TEST_CASE("port reservation: a plain bind is refused; a SO_REUSEADDR server restarts on it") {
  asio::io_context io;
  const conflux::transport::PortReservation reserved;
  REQUIRE(reserved.port() != 0);
  CHECK(reserved.address() == "127.0.0.1:" + std::to_string(reserved.port()));

  tcp::acceptor plain(io, tcp::v4());
  boost::system::error_code error;
  plain.bind(loopback(reserved.port()), error);
  CHECK(error == asio::error::address_in_use);

  CHECK(listens_on(io, reserved.port()));
  CHECK(listens_on(io, reserved.port()));  // a restart finds it free again
}

TEST_CASE("port reservation: moving one keeps the port held; reservations differ") {
  conflux::transport::PortReservation first;
  const auto port = first.port();
  conflux::transport::PortReservation moved(std::move(first));
  CHECK(moved.port() == port);
  const conflux::transport::PortReservation second;
  CHECK(second.port() != port);
  asio::io_context io;
  tcp::acceptor plain(io, tcp::v4());
  boost::system::error_code error;
  plain.bind(loopback(port), error);
  CHECK(error == asio::error::address_in_use);
}
