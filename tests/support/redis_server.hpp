#pragma once
// A redis-server of the test's own, on an ephemeral loopback port, with no
// persistence: started by the constructor, killed (-9) by the destructor.
// stop() and start() take it down and bring it back on the same port.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "apps/poll_until.hpp"
#include "apps/process.hpp"
#include "support/free_port.hpp"
#include "support/temp_dir.hpp"

namespace conflux::test {

class RedisServer {
 public:
  explicit RedisServer(bool started = true) : port_(free_port()) {
    if (started) start();
  }

  /// Starts it and waits (up to 10 s) until it accepts connections.
  void start() {
    const std::vector<std::string> args{
        "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save",
        "",       "--appendonly",        "no",     "--dir",     dir_.path().string()};
    process_ =
        std::make_unique<ChildProcess>("/usr/bin/redis-server", args, dir_.path() / "redis.log");
    if (!poll_until([&] { return accepts() || !process_->running(); }, std::chrono::seconds(10)) ||
        !process_->running()) {
      throw std::runtime_error("redis-server did not start: see " +
                               (dir_.path() / "redis.log").string());
    }
  }
  /// kill -9: connections drop at once, as when Redis crashes.
  void stop() { process_.reset(); }

  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  bool accepts() const {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    boost::system::error_code error;
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, error);
    return !error;
  }

  std::uint16_t port_;
  TempDir dir_{"conflux-redis"};
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace conflux::test
