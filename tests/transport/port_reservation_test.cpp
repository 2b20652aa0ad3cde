// A reserved port is kept from every other binder, yet our servers, which
// bind with SO_REUSEADDR, listen on it as often as they restart.

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <conflux/transport/port_reservation.hpp>
#include <set>

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

TEST_CASE(
    "port reservation: no other binder takes the port; a SO_REUSEADDR server restarts on it") {
  asio::io_context io;
  const conflux::transport::PortReservation reserved;
  REQUIRE(reserved.port() != 0);
  CHECK(reserved.address() == "127.0.0.1:" + std::to_string(reserved.port()));

  tcp::acceptor plain(io, tcp::v4());
  boost::system::error_code error;
  plain.bind(loopback(reserved.port()), error);
  CHECK(error == asio::error::address_in_use);

  // The kernel's own choices skip it: ephemeral binds, with and without
  // SO_REUSEADDR, and the local ports of outgoing connections.
  tcp::acceptor listener(io, loopback(0));
  listener.listen();
  std::set<std::uint16_t> chosen;
  for (int i = 0; i < 2000; ++i) {
    tcp::acceptor any(io, tcp::v4());
    any.set_option(tcp::acceptor::reuse_address(i % 2 == 0));
    any.bind(loopback(0));
    chosen.insert(any.local_endpoint().port());
    tcp::socket client(io);
    client.connect(listener.local_endpoint());
    chosen.insert(client.local_endpoint().port());
    tcp::socket accepted = listener.accept();
  }
  CHECK(chosen.count(reserved.port()) == 0);

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
