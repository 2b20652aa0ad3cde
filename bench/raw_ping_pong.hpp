#pragma once
// The machine's floor for a request and its answer: a TCP echo of
// fixed-size messages on loopback, with Nagle off on both ends, blocking or
// spinning (below).
// Benchmarks print their latencies next to it, measured in the same run.
//
// Where the two threads run decides the floor. On this kind of VM, a
// wake-up on the other vCPU goes through the hypervisor (tens of µs), one
// on the same vCPU is a context switch (a few µs); left to the scheduler, a
// run lands in either regime and the floor moves by an order of magnitude.
// So the threads can be pinned: to two CPUs, as the nodes of a cluster on
// separate cores or machines talk, or to one.
//
// Neither blocking placement is a lower bound for what two processes can
// do: a process that is busy when its message arrives is not woken at all.
// So the echo can also spin: both threads poll non-blocking sockets on
// their own CPUs and never sleep, leaving the kernel's TCP path alone. The
// lowest p50 of the three is a floor no implementation on loopback beats.

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <exception>
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

/// Pins the calling thread to `cpu`; nothing when it is unset. False when
/// the system refused.
inline bool pin_this_thread(std::optional<int> cpu) {
  if (!cpu) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(*cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

/// How each thread waits for the other's message.
enum class PingPongWait { block, spin };

/// Reads or writes all of `buffer` on a non-blocking socket, polling.
template <typename Socket, typename Buffer, typename Operation>
void spin_transfer(Socket& socket, Buffer buffer, Operation operation) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    boost::system::error_code error;
    done += operation(socket, buffer + done, error);
    if (error && error != boost::asio::error::would_block) throw boost::system::system_error(error);
  }
}

/// One message of `buffer.size()` bytes each way, waiting as `wait` says.
template <typename Socket>
void exchange(Socket& socket, std::vector<char>& buffer, PingPongWait wait, bool send_first) {
  namespace asio = boost::asio;
  const auto send = [&] {
    if (wait == PingPongWait::block) return void(asio::write(socket, asio::buffer(buffer)));
    spin_transfer(socket, asio::const_buffer(asio::buffer(buffer)),
                  [](Socket& s, asio::const_buffer b, auto& e) { return s.write_some(b, e); });
  };
  const auto receive = [&] {
    if (wait == PingPongWait::block) return void(asio::read(socket, asio::buffer(buffer)));
    spin_transfer(socket, asio::buffer(buffer),
                  [](Socket& s, asio::mutable_buffer b, auto& e) { return s.read_some(b, e); });
  };
  if (send_first) {
    send();
    receive();
  } else {
    receive();
    send();
  }
}

struct PingPong {
  std::vector<double> rtts;  ///< microseconds, in the order measured
  bool pinned = false;       ///< both threads ran where they were asked to
};

/// `pings` echoes of `size` bytes, with both threads pinned as `cpus` says
/// (unset: where the scheduler puts them). The calling thread is neither
/// used nor pinned. Throws what either thread threw (a socket error).
/// Spinning threads on one CPU would only take turns: give two.
inline PingPong raw_ping_pong(std::size_t pings, std::size_t size,
                              std::optional<PingPongCpus> cpus = std::nullopt,
                              PingPongWait wait = PingPongWait::block) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  PingPong result;
  std::atomic<bool> pinned{true};
  std::exception_ptr echo_error, client_error;
  std::thread echo([&] {
    try {
      if (!pin_this_thread(cpus ? std::optional(cpus->echo) : std::nullopt)) pinned = false;
      auto socket = acceptor.accept();
      socket.set_option(asio::ip::tcp::no_delay(true));
      socket.non_blocking(wait == PingPongWait::spin);
      std::vector<char> buffer(size);
      for (std::size_t i = 0; i < pings; ++i) exchange(socket, buffer, wait, false);
    } catch (...) {
      echo_error = std::current_exception();
    }
  });
  std::thread client([&] {
    try {
      if (!pin_this_thread(cpus ? std::optional(cpus->client) : std::nullopt)) pinned = false;
      asio::ip::tcp::socket socket(io);
      socket.connect(acceptor.local_endpoint());
      socket.set_option(asio::ip::tcp::no_delay(true));
      socket.non_blocking(wait == PingPongWait::spin);
      std::vector<char> buffer(size, 'x');
      result.rtts.reserve(pings);
      for (std::size_t i = 0; i < pings; ++i) {
        const auto start = std::chrono::steady_clock::now();
        exchange(socket, buffer, wait, true);
        result.rtts.push_back(
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                .count());
      }
    } catch (...) {
      client_error = std::current_exception();
      acceptor.close();  // an echo thread still waiting to accept gives up
    }
  });
  client.join();
  echo.join();
  if (client_error) std::rethrow_exception(client_error);
  if (echo_error) std::rethrow_exception(echo_error);
  result.pinned = cpus.has_value() && pinned;
  return result;
}

}  // namespace conflux::bench
