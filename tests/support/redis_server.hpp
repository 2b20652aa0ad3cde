#pragma once
// A redis-server of the test's own, on an ephemeral loopback port, with no
// persistence: started by the constructor, killed (-9) by the destructor.
// stop() and start() take it down and bring it back on the same port.
// Extra arguments (say --client-output-buffer-limit) go to every start.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <conflux/transport/port_reservation.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "apps/poll_until.hpp"
#include "apps/process.hpp"
#include "support/temp_dir.hpp"

namespace conflux::test {

class RedisServer {
 public:
  explicit RedisServer(bool started = true, std::vector<std::string> extra = {})
      : port_(reserved_.port()), extra_(std::move(extra)) {
    if (started) start();
  }

  /// Starts it and waits (up to 10 s) until it accepts connections.
  void start() {
    std::vector<std::string> args{
        "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save",
        "",       "--appendonly",        "no",     "--dir",     dir_.path().string()};
    args.insert(args.end(), extra_.begin(), extra_.end());
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

  /// PUBLISH `payload` on `channel`, as any client of this Redis may.
  void publish(const std::string& channel, const std::string& payload) const {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
    std::string command = "*3\r\n$7\r\nPUBLISH\r\n";
    for (const auto& arg : {channel, payload})
      command += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
    boost::asio::write(socket, boost::asio::buffer(command));
    char reply[64];
    socket.read_some(boost::asio::buffer(reply));  // ":<receivers>"
  }

  /// Whether redis-server's log says `text`.
  bool logged(std::string_view text) const {
    std::ifstream file(dir_.path() / "redis.log");
    const std::string log((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    return log.find(text) != std::string::npos;
  }

 private:
  bool accepts() const {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    boost::system::error_code error;
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, error);
    return !error;
  }

  transport::PortReservation reserved_;  // redis-server binds with SO_REUSEADDR
  std::uint16_t port_;
  std::vector<std::string> extra_;
  TempDir dir_{"conflux-redis"};
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace conflux::test
