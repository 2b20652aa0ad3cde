#pragma once
// What the channels that dial out (TcpMesh, WsChannel) share: bounded
// per-peer queues, jittered redial backoff, a handshake deadline and where
// log lines go.

#include <chrono>
#include <conflux/raft/random.hpp>
#include <cstddef>
#include <functional>
#include <string_view>

namespace conflux::transport {

struct LinkSettings {
  /// Per-peer outbound queue bounds; beyond them frames are dropped and
  /// counted (Raft retransmits), so a slow peer never blocks the node.
  std::size_t queue_max_frames = 4096;
  std::size_t queue_max_bytes = 64 << 20;
  /// Redial backoff: doubles from min to max, each wait jittered to 50-100 %.
  std::chrono::milliseconds backoff_min{10};
  std::chrono::milliseconds backoff_max{1000};
  /// A connection must complete its handshake within this time.
  std::chrono::milliseconds handshake_timeout{5000};
  /// Receives one line per notable event (refusals, decode errors, drops of
  /// a connection). Default: standard error.
  std::function<void(std::string_view)> log;
};

/// Throws std::invalid_argument when the backoff bounds are not positive and
/// ordered.
void validate(const LinkSettings& settings);

/// The wait before the next dial, jittered; doubles `backoff` up to the
/// maximum for the time after.
std::chrono::milliseconds next_backoff(const LinkSettings& settings,
                                       std::chrono::milliseconds& backoff, raft::Random& random);

}  // namespace conflux::transport
