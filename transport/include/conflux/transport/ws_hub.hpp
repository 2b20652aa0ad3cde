#pragma once
// The WebSocket hub: a relay that routes messages between the peers of a
// cluster by node id, for peers that cannot accept connections (browser
// tabs) or sit behind one port. It keeps no Raft state.
//
// A peer connects to ws://host:port/<cluster> (wss:// when the hub has
// certificates), sends a `hello` (to "hub")
// and gets `welcome` or `refused`; then every text message it sends is one
// packet of docs/protocol.md, delivered only to the packet's "to". Several
// clusters share a hub, isolated by the path. Bad input (binary frames,
// non-JSON, oversize messages, a spoofed "from", a duplicate id) closes
// that connection with a close reason; everyone else keeps working. Each
// connection has its own bounded outbound queue, so a slow consumer only
// loses its own messages (Raft retransmits).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <conflux/raft/types.hpp>
#include <conflux/transport/tls.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::transport {

/// The id a peer names as "to" in its hello to a hub.
inline constexpr std::string_view hub_id = "hub";

struct StaticFile {
  std::string content_type;
  std::string body;
};

struct WsHubConfig {
  std::string listen = "127.0.0.1:0";        ///< "host:port"; port 0 picks one
  std::size_t max_message_bytes = 16 << 20;  ///< larger messages close the connection
  std::size_t queue_max_messages = 4096;     ///< per connection
  std::size_t queue_max_bytes = 64 << 20;    ///< per connection
  std::chrono::milliseconds handshake_timeout{5000};
  /// Connections that have not yet said hello (upgrade, TLS and hello
  /// included, each bounded by handshake_timeout): more are closed at once
  /// and counted as busy, so that a flood of them costs bounded memory.
  std::size_t max_unproven_connections = 256;
  std::function<void(std::string_view)> log;  ///< default: standard error
  /// Serves a plain HTTP GET (not an upgrade) of `path`: its content type
  /// and body, or nullopt for 404. Unset: such requests get 426, as the hub
  /// only relays. conflux-hub --static serves a directory with it (the
  /// browser peers' page and module).
  std::function<std::optional<StaticFile>(std::string_view path)> files;
  /// Set: a hello must carry this token (protocol.md §7.1), or the peer is
  /// refused ("no token", "a wrong token") and counted as unauthorized.
  std::string token = {};
  /// Set: wss:// only (and HTTPS for `files`), with this certificate and
  /// key. Clients need not present a certificate (browsers seldom can: the
  /// token admits them); one that does must be of `tls.authority`.
  /// Throws std::invalid_argument naming the file that cannot be used.
  TlsFiles tls = {};
};

struct WsHubStats {
  std::uint64_t routed = 0;          ///< messages delivered to a queue
  std::uint64_t dropped_absent = 0;  ///< addressed to a peer not connected
  std::uint64_t dropped_full = 0;    ///< the addressee's queue was full
  std::uint64_t refused = 0;         ///< connections closed for bad input
  std::uint64_t unauthorized = 0;    ///< of those, hellos without the hub's token
  std::uint64_t tls_handshake = 0;   ///< of those, failed TLS handshakes (wss:// only)
  std::uint64_t busy = 0;  ///< of those, closed at once: max_unproven_connections were open
};

class WsHub {
 public:
  /// Binds at once. Throws std::invalid_argument for a bad address,
  /// std::system_error if it cannot be bound.
  WsHub(boost::asio::any_io_executor executor, WsHubConfig config);
  ~WsHub();
  WsHub(const WsHub&) = delete;
  WsHub& operator=(const WsHub&) = delete;

  std::uint16_t port() const;
  /// Accepts and serves until close(); returns once every connection ended.
  boost::asio::awaitable<void> run();
  /// Closes the listener and every connection. Idempotent.
  void close();
  /// Reads the certificate and key again from config.tls's files; new
  /// connections use them. "" once reloaded (or without TLS), else why not,
  /// and the ones in use stay.
  std::string reload_tls();

  /// Ids connected in `cluster`, sorted.
  std::vector<raft::NodeId> members(const std::string& cluster) const;
  const WsHubStats& stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace conflux::transport
