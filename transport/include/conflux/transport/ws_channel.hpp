#pragma once
// The WebSocket channel: a node's one connection to a hub (ws_hub.hpp),
// which relays its packets to the other peers. Same handshake and JSON as
// the TCP mesh (docs/protocol.md), one WebSocket text message per packet.
// Reconnects with jittered backoff; bounded per-peer queues while the hub
// is unreachable or slow (overflow is dropped and counted: Raft
// retransmits).

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <conflux/transport/channel.hpp>
#include <conflux/transport/frame.hpp>
#include <conflux/transport/link_settings.hpp>
#include <conflux/transport/tls.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::transport {

struct WsChannelConfig : LinkSettings {
  raft::NodeId id;
  /// ws://host:port/<cluster>, or wss:// for TLS
  std::string hub;
  /// Every other node of the cluster.
  std::vector<raft::NodeId> peers;
  std::size_t max_message_bytes = default_max_frame_bytes;
  /// The cluster's token, sent in the hello, for a hub that requires one.
  std::string token = {};
  /// wss:// only: the hub's certificate must be of `tls.authority` and
  /// name the URL's host (rfc 2818: a DNS or IP subjectAltName); this node
  /// presents its own. Unset: the system's trusted authorities, and no
  /// certificate of its own. Throws std::invalid_argument naming the file
  /// that cannot be used.
  TlsFiles tls = {};
};

class WsChannel final : public Channel {
 public:
  /// Throws std::invalid_argument for a bad config (hub URL, empty id).
  WsChannel(boost::asio::any_io_executor executor, WsChannelConfig config, InboxHandler inbox);
  ~WsChannel() override;

  void send(Packet packet) override;
  boost::asio::awaitable<void> run() override;
  void close() override;
  /// A peer counts as connected while this node's hub link is up and the
  /// hub lists the peer as present.
  std::vector<PeerStatus> status() const override;
  void set_peers(const std::map<raft::NodeId, std::string>& peers) override;
  std::vector<RelayLink> relay_links() const override;
  /// wss:// with files: reads them again; new connections use them.
  std::string reload_tls() override;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace conflux::transport
