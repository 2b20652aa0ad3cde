#pragma once
// Internals of TcpMesh, shared by its source files. Everything here runs on
// the mesh's executor.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <conflux/raft/random.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/codec.hpp>
#include <conflux/transport/tcp_mesh.hpp>
#include <deque>
#include <exception>
#include <list>
#include <optional>
#include <string>

#include "channel_core.hpp"
#include "limited_log.hpp"
#include "peer_stream.hpp"

namespace conflux::transport {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

inline constexpr std::size_t max_handshake_bytes = 4096;
/// Frames up to this size may skip the queue when the writer is idle.
inline constexpr std::size_t max_direct_write_bytes = 512;
/// Frames taken from the queue into one gathered write.
inline constexpr std::size_t max_write_batch_bytes = 1 << 20;

/// Outcome of reading one frame: its body, or what went wrong.
struct FrameRead {
  std::optional<std::string> frame;
  std::string problem;  ///< empty on a clean end of stream
};

struct OutboundPeer {
  OutboundPeer(asio::any_io_executor executor, raft::NodeId peer_id, std::string peer_address)
      : address(std::move(peer_address)), wake(executor, asio::steady_timer::time_point::max()) {
    status.id = std::move(peer_id);
  }

  std::string address;
  PeerStatus status;
  std::deque<std::string> queue;  // whole frames (header + JSON)
  QueueBound bound;
  asio::steady_timer wake;  // the writer waits on it; send() cancels it to wake the writer
  /// Set while the link is connected and its writer waits for work: then
  /// enqueue() may write straight to the stream (no write is in progress).
  PeerStream* idle_stream = nullptr;
  /// No longer a member (set_peers), or the mesh closed: the link ends and
  /// nothing is sent to or accepted from it. A link task runs while `linking`.
  bool stopped = false;
  bool linking = false;
  /// The accepted connection this peer's messages arrive on. A newer one
  /// replaces it (closing it): a restarted peer, or one whose old connection
  /// was left half open, gets through, and a peer holds one reader (and one
  /// frame buffer of up to max_frame_bytes) at a time, however often it dials.
  PeerStream* inbound = nullptr;
};

struct TcpMesh::Impl : std::enable_shared_from_this<TcpMesh::Impl> {
  Impl(asio::any_io_executor ex, TcpMeshConfig cfg, InboxHandler handler);

  void log(const std::string& line) const;
  /// Counts `reason` and logs "refused connection from <who>: <why>" (rate-limited).
  void refuse(const char* reason, const std::string& who, const std::string& why);
  void log_failure(const std::string& task, std::exception_ptr error) const;
  void spawn(asio::awaitable<void> task, std::string name);
  void enqueue(OutboundPeer& peer, const Packet& packet);
  void start_link(OutboundPeer& peer);
  bool write_now(OutboundPeer& peer, const std::string& frame);

  // tcp_mesh.cpp: the listener; tcp_session.cpp: handshake and inbound reader
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket);
  /// The TLS handshake, within the handshake timeout: {nullptr, ""} once
  /// secure (or on plaintext), else a refusal reason and why ("" when the
  /// peer just closed).
  asio::awaitable<std::pair<const char*, std::string>> tls_handshake_within(
      PeerStream& stream, asio::ssl::stream_base::handshake_type side);
  asio::awaitable<std::optional<raft::NodeId>> accept_handshake(PeerStream& stream,
                                                                FrameDecoder& decoder,
                                                                const std::string& who);
  std::string refusal_reason(const Hello& hello);
  asio::awaitable<FrameRead> read_frame(PeerStream& stream, FrameDecoder& decoder);
  asio::awaitable<FrameRead> read_frame_within(PeerStream& stream, FrameDecoder& decoder,
                                               std::chrono::milliseconds timeout);
  asio::awaitable<void> read_messages(PeerStream& stream, FrameDecoder& decoder,
                                      const raft::NodeId& peer);
  void replace_inbound(OutboundPeer& peer, PeerStream& stream, const std::string& who);
  bool deliver_frame(std::string_view frame, const raft::NodeId& peer, PeerStatus& status);

  // tcp_link.cpp: dialling side
  asio::awaitable<void> link(OutboundPeer& peer);
  asio::awaitable<bool> connect_once(OutboundPeer& peer);
  asio::awaitable<bool> dial(OutboundPeer& peer, tcp::socket& socket);
  asio::awaitable<bool> secure(OutboundPeer& peer, PeerStream& stream);
  asio::awaitable<bool> offer_handshake(OutboundPeer& peer, PeerStream& stream);
  asio::awaitable<void> write_frames(OutboundPeer& peer, PeerStream& stream);
  asio::awaitable<void> watch(PeerStream& stream);

  asio::any_io_executor executor;
  TcpMeshConfig config;
  InboxHandler inbox;
  tcp::acceptor acceptor;
  /// TLS (config.tls set): the context new connections use; reload_tls()
  /// replaces it, and each connection keeps the one it started with.
  std::shared_ptr<asio::ssl::context> tls;
  std::map<std::string, std::uint64_t> refusals;  // by refusal_reasons
  std::size_t unproven = 0;  // accepted sessions before their hello (tcp_session.cpp)
  LimitedLog limited;        // refuse()'s lines
  std::map<raft::NodeId, OutboundPeer> peers;
  raft::Random random;
  bool closed = false;
  bool running = false;
  /// Built with no peer (join mode): any node of the cluster may connect,
  /// until set_peers() says who the members are.
  bool open = false;
  std::size_t tasks = 0;  // spawned coroutines still running
  /// A spawned task's cancellation signal. `finished` is set as soon as the
  /// task ends: close() must not emit then, for the hop co_spawn would queue
  /// could run after the signal is erased (a use after free, seen under load).
  struct Task {
    asio::cancellation_signal signal;
    bool finished = false;
  };
  std::list<Task> signals;
  asio::steady_timer all_done;  // cancelled when the last task ends after close()
};

}  // namespace conflux::transport
