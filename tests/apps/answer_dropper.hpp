#pragma once
// A stand-in endpoint for client tests: it passes each request on to a node
// and relays the answer, except a perform's, which it drops (it closes the
// connection instead). The perform happened; the client cannot know it.

#include <atomic>
#include <cstdint>
#include <thread>

namespace conflux::test {

class AnswerDropper {
 public:
  /// Listens on an ephemeral loopback port, serving one connection at a
  /// time, each of one request, until destroyed.
  explicit AnswerDropper(std::uint16_t node_port);
  ~AnswerDropper();
  AnswerDropper(const AnswerDropper&) = delete;
  AnswerDropper& operator=(const AnswerDropper&) = delete;

  std::uint16_t port() const { return port_; }
  /// Performs passed on whose answer was dropped.
  int dropped() const { return dropped_; }

 private:
  void serve();
  void relay(int client);

  std::uint16_t node_port_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> dropped_{0};
  std::thread thread_;
};

}  // namespace conflux::test
