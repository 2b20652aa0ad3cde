#pragma once
// Clients writing to the kv app over HTTP while a test breaks the cluster.
// Each client runs on its own thread, sends one request at a time to a
// randomly chosen node, and records what it was told, so that the final
// state can be checked against every answer:
//
//   200                                   acknowledged: must be in the state
//   503 with retryable=true               certainly not committed: must be absent
//   504, or the connection lost mid-way   unknown: present or absent
//   connection refused                    never delivered: must be absent
//
// Client k performs put("c<k>-<seq>", seq) for even seq and
// append("log-c<k>", "<seq>,") for odd seq, so every write can be told apart
// and the order of one client's appends is visible.

#include <atomic>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "apps/http_client.hpp"

namespace conflux::test {

enum class Outcome { acknowledged, not_committed, unknown, not_delivered, unexpected };

struct Write {
  std::uint64_t seq = 0;
  Outcome outcome = Outcome::unexpected;
  unsigned status = 0;  ///< the HTTP status; 0 if none arrived
  std::string detail;   ///< the answer, for messages
};

/// What an answer to a perform says about whether its write committed.
Outcome classify(const HttpReply& reply);

class KvWorkload {
 public:
  /// Starts `clients` threads at once; client k draws its nodes from a
  /// generator seeded with seed + k.
  KvWorkload(std::vector<std::uint16_t> http_ports, std::size_t clients, std::uint64_t seed);
  ~KvWorkload() { stop(); }
  KvWorkload(const KvWorkload&) = delete;
  KvWorkload& operator=(const KvWorkload&) = delete;

  /// Node `i` gets no new requests until allow(i) (it is about to be killed
  /// or stopped); requests already sent to it run their course.
  void avoid(std::size_t i) { avoided_ |= 1U << i; }
  void allow(std::size_t i) { avoided_ &= ~(1U << i); }
  /// avoid(i), then waits until no request to node `i` is in flight; false
  /// if one still is at the deadline.
  bool drain(std::size_t i, std::chrono::milliseconds timeout);

  std::uint64_t acknowledged() const { return acknowledged_; }
  /// Waits until `count` more writes than now are acknowledged.
  bool wait_for_progress(std::uint64_t count, std::chrono::milliseconds timeout) const;
  /// Lets each client finish its request in flight, then joins them.
  void stop();

  /// After stop(): every disagreement between `state` and the answers.
  std::vector<std::string> problems(const boost::json::value& state) const;
  /// After stop(): the writes that were not acknowledged, for a test in
  /// which none may fail.
  std::vector<Write> unacknowledged() const;
  /// A client's failed writes, by how they failed.
  struct Failures {
    std::size_t answered = 0;  ///< a 503 (retryable) or 504 answer
    std::size_t lost = 0;      ///< the connection died with the request in it
  };
  /// After stop(): per client.
  std::vector<Failures> failures_per_client() const;
  std::string summary() const;

 private:
  void run(std::size_t client, std::stop_token stop);
  /// A node that is not avoided, counted in flight until the caller's
  /// request is answered (see drain()).
  std::size_t pick(std::mt19937_64& random);

  std::vector<std::uint16_t> ports_;
  std::uint64_t seed_;
  std::atomic<std::uint32_t> avoided_{0};
  std::vector<std::atomic<int>> in_flight_;  // [i]: requests to node i not yet answered
  std::atomic<std::uint64_t> acknowledged_{0};
  std::vector<std::vector<Write>> writes_;  // [k] is written by client k alone until stop()
  std::vector<std::jthread> threads_;
};

/// $CONFLUX_TEST_SEED if set (to replay a failure), else a fresh one; the
/// caller prints it.
std::uint64_t test_seed();

/// Fails the running doctest case for each disagreement between `state` and
/// the workload's answers, and checks that the checker can fail at all.
void check_every_write(const KvWorkload& workload, const boost::json::value& state);

}  // namespace conflux::test
