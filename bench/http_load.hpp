#pragma once
// A closed-loop HTTP load: `concurrency` keep-alive connections, each with
// exactly one "POST /perform/write" in flight, the next sent as soon as the
// answer is in. Runs on a thread of its own so that the caller can watch
// the clock; the requests are prepared once per connection and the answers
// are parsed only as far as status and length (http_response.hpp).

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "load_recorder.hpp"

namespace conflux::bench {

class HttpLoad {
 public:
  /// Connection i goes to addresses[i % size] ("host:port", resolved here:
  /// throws std::runtime_error if one does not resolve).
  HttpLoad(const std::vector<std::string>& addresses, int concurrency, std::string body);
  ~HttpLoad();
  HttpLoad(const HttpLoad&) = delete;
  HttpLoad& operator=(const HttpLoad&) = delete;

  void start(std::shared_ptr<LoadRecorder> recorder);
  /// Stops the thread at once: requests in flight are abandoned (their
  /// connections close), which is harmless to a node and not counted.
  void stop();

 private:
  struct Connection;
  boost::asio::io_context io_{1};
  std::vector<Connection> connections_;
  std::thread thread_;
};

}  // namespace conflux::bench
