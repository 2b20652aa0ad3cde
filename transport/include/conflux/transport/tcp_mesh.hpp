#pragma once
// The TCP mesh: every node listens on one address and keeps one outbound
// link per peer (dial, handshake, write; back off and redial on failure).
// A node writes to a peer on its own outbound link and reads what the peer
// writes on the peer's link, accepted by this node's listener. Frames are a
// 4-byte big-endian length and a JSON message (docs/protocol.md).

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <conflux/transport/channel.hpp>
#include <conflux/transport/frame.hpp>
#include <conflux/transport/link_settings.hpp>
#include <conflux/transport/tls.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace conflux::transport {

struct TcpMeshConfig : LinkSettings {
  raft::NodeId id;
  /// Peers must use the same cluster id; a mismatch is refused at handshake.
  std::string cluster;
  /// "host:port" to listen on; port 0 picks an ephemeral port (see port()).
  std::string listen = "127.0.0.1:0";
  /// Every other node: id -> "host:port". An empty address may be filled in
  /// later with set_peer_address() (e.g. once an ephemeral port is known).
  std::map<raft::NodeId, std::string> peers;
  std::size_t max_frame_bytes = default_max_frame_bytes;
  /// Set: every connection is TLS with mutual authentication, and a peer's
  /// certificate must name the id it speaks as (tls.hpp).
  TlsFiles tls;
  /// Accepted connections that have not yet said hello (each may hold a
  /// TLS handshake and its buffers for up to twice handshake_timeout): more
  /// are closed at once, so that a flood of them costs bounded memory and
  /// CPU. A cluster's own members need one each.
  std::size_t max_unproven_connections = 64;
};

/// Why the mesh refused a connection before it could speak, as counted by
/// refusals():
///   tls_handshake  the TLS handshake failed or stalled (a plaintext peer on
///                  a TLS port, a client that stops mid-handshake)
///   certificate    the peer's certificate did not verify (another
///                  authority, expired, none)
///   identity       a valid certificate that does not name the id in the hello
///   hello          no hello in time, or one refused (another cluster or
///                  version, not a member)
///   busy           max_unproven_connections were already being checked
namespace refusal_reasons {
inline constexpr const char* tls_handshake = "tls_handshake";
inline constexpr const char* certificate = "certificate";
inline constexpr const char* identity = "identity";
inline constexpr const char* hello = "hello";
inline constexpr const char* busy = "busy";
}  // namespace refusal_reasons

class TcpMesh final : public Channel {
 public:
  /// Binds the listening socket at once (so port() is known before run()).
  /// Throws std::invalid_argument for a bad config, std::system_error if the
  /// address cannot be bound.
  TcpMesh(boost::asio::any_io_executor executor, TcpMeshConfig config, InboxHandler inbox);
  ~TcpMesh() override;

  /// The port the listener is bound to.
  std::uint16_t port() const;
  /// Sets or changes where `peer` listens; takes effect at the next dial.
  void set_peer_address(const raft::NodeId& peer, std::string address);

  void send(Packet packet) override;
  boost::asio::awaitable<void> run() override;
  void close() override;
  std::vector<PeerStatus> status() const override;
  void set_peers(const std::map<raft::NodeId, std::string>& peers) override;
  std::map<std::string, std::uint64_t> refusals() const override;
  std::string reload_tls() override;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace conflux::transport
