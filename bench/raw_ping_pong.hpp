#pragma once
// The machine's floor for a request and its answer: a plain blocking TCP
// echo of fixed-size messages on loopback, with Nagle off on both ends.
// Benchmarks print their latencies next to it, measured in the same run.
//
// Where the two threads run decides the floor. On this kind of VM, a
// wake-up on the other vCPU goes through the hypervisor (tens of µs), one
// on the same vCPU is a context switch (a few µs); left to the scheduler, a
// run lands in either regime and the floor moves by an order of magnitude.
// So the threads can be pinned: to two CPUs, as the nodes of a cluster on
// separate cores or machines talk, or to one.

#include <pthread.h>
#include <sched.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

namespace conflux::bench {

/// CPUs for the client and the echo thread.
struct PingPongCpus {
  int client = 0;
  int echo = 0;
};

/// The first two CPUs this process may run on, for a cross-CPU ping-pong;
/// unset on a single CPU.
inline std::optional<PingPongCpus> two_allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return std::nullopt;
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.size() < 2; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  if (cpus.size() < 2) return std::nullopt;
  return PingPongCpus{cpus[0], cpus[1]};
}

/// Pins the calling thread to `cpu`; nothing when it is unset.
inline void pin_this_thread(std::optional<int> cpu) {
  if (!cpu) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(*cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/// Round-trip times in microseconds of `pings` echoes of `size` bytes,
/// with both threads pinned as `cpus` says (unset: where the scheduler
/// puts them). The calling thread is neither used nor pinned.
inline std::vector<double> raw_ping_pong(std::size_t pings, std::size_t size,
                                         std::optional<PingPongCpus> cpus = std::nullopt) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::thread echo([&] {
    pin_this_thread(cpus ? std::optional(cpus->echo) : std::nullopt);
    auto socket = acceptor.accept();
    socket.set_option(asio::ip::tcp::no_delay(true));
    std::vector<char> buffer(size);
    for (std::size_t i = 0; i < pings; ++i) {
      asio::read(socket, asio::buffer(buffer));
      asio::write(socket, asio::buffer(buffer));
    }
  });
  std::vector<double> rtts;
  std::thread client([&] {
    pin_this_thread(cpus ? std::optional(cpus->client) : std::nullopt);
    asio::ip::tcp::socket socket(io);
    socket.connect(acceptor.local_endpoint());
    socket.set_option(asio::ip::tcp::no_delay(true));
    std::vector<char> buffer(size, 'x');
    rtts.reserve(pings);
    for (std::size_t i = 0; i < pings; ++i) {
      const auto start = std::chrono::steady_clock::now();
      asio::write(socket, asio::buffer(buffer));
      asio::read(socket, asio::buffer(buffer));
      rtts.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count());
    }
  });
  client.join();
  echo.join();
  return rtts;
}

}  // namespace conflux::bench
