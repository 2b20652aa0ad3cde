#pragma once
// Counters and histograms a node keeps about itself, for monitoring
// (conflux-node serves them at /metrics in the Prometheus text format).
// A snapshot is taken with Node::metrics(); nothing here is synchronised.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace conflux {

/// A latency histogram with fixed bucket bounds, in seconds.
class Histogram {
 public:
  /// Upper bounds of the buckets (each bucket counts observations <= its
  /// bound); a last, implicit bucket takes everything above.
  static constexpr std::array<double, 16> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                 0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                 1,      2.5,     5,      10};

  void observe(double seconds);
  /// Observations in bucket i (not cumulative); i == bounds.size() is the
  /// overflow bucket.
  std::uint64_t bucket(std::size_t i) const { return buckets_.at(i); }
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::array<std::uint64_t, bounds.size() + 1> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

/// Traffic with one peer, as the channel counts it.
struct PeerTraffic {
  std::string id;
  bool connected = false;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::map<std::string, std::uint64_t> dropped;  ///< by reason ("queue_full", ...)
};

struct NodeMetrics {
  /// Elections this node started as a candidate (pre-votes excluded).
  std::uint64_t elections = 0;
  /// Times this node became leader.
  std::uint64_t leaderships = 0;
  /// Entries applied on this node (actions and no-ops).
  std::uint64_t entries_applied = 0;
  /// Performs started on this node that completed successfully.
  std::uint64_t performs_succeeded = 0;
  /// Performs started on this node that failed, by error code name.
  std::map<std::string, std::uint64_t> performs_failed;
  /// Linearizable reads (Node::linearizable_state) served, and failed by
  /// error code name.
  std::uint64_t reads_served = 0;
  std::map<std::string, std::uint64_t> reads_failed;
  /// Raft messages that the core refused, by reason ("term_too_large",
  /// "malformed", ...); each refusal is also logged with its sender.
  std::map<std::string, std::uint64_t> refused_messages;
  /// From perform() to its successful completion.
  Histogram perform_latency;
  /// One fdatasync of the write-ahead log (durable nodes only).
  Histogram fsync_latency;
  /// Snapshots this node took of its state (docs/storage.md), how long each
  /// took to write (from the copy of the state to the file renamed), and
  /// the size of the last one.
  std::uint64_t snapshots_taken = 0;
  Histogram snapshot_duration;
  std::uint64_t snapshot_bytes = 0;
  /// Snapshots this node sent whole to a follower as a leader, and received
  /// and installed as a follower (Raft §7).
  std::uint64_t snapshots_sent = 0;
  std::uint64_t snapshots_installed = 0;
  std::vector<PeerTraffic> peers;
};

}  // namespace conflux
