#pragma once
// The machine's floor for a request and its answer: a plain blocking TCP
// echo of fixed-size messages on loopback, with Nagle off on both ends.
// Benchmarks print their latencies next to it, measured in the same run,
// because on a VM the floor moves between runs by an order of magnitude.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <thread>
#include <vector>

namespace conflux::bench {

/// Round-trip times in microseconds of `pings` echoes of `size` bytes.
inline std::vector<double> raw_ping_pong(std::size_t pings, std::size_t size) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::thread echo([&] {
    auto socket = acceptor.accept();
    socket.set_option(asio::ip::tcp::no_delay(true));
    std::vector<char> buffer(size);
    for (std::size_t i = 0; i < pings; ++i) {
      asio::read(socket, asio::buffer(buffer));
      asio::write(socket, asio::buffer(buffer));
    }
  });
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  client.set_option(asio::ip::tcp::no_delay(true));
  std::vector<char> buffer(size, 'x');
  std::vector<double> rtts;
  rtts.reserve(pings);
  for (std::size_t i = 0; i < pings; ++i) {
    const auto start = std::chrono::steady_clock::now();
    asio::write(client, asio::buffer(buffer));
    asio::read(client, asio::buffer(buffer));
    rtts.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
  }
  echo.join();
  return rtts;
}

}  // namespace conflux::bench
