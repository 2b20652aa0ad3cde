// TcpMesh, dialling side: one link per peer that dials, offers the
// handshake, then writes queued frames (coalesced into gathered writes)
// until the connection fails, backs off with jitter and dials again.
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <conflux/transport/tls_context.hpp>
#include <vector>

#include "redial.hpp"
#include "tcp_mesh_impl.hpp"

namespace conflux::transport {

using namespace asio::experimental::awaitable_operators;
namespace {

/// Publishes the stream for enqueue()'s direct writes while the writer
/// waits, and withdraws it however the wait ends (cancellation included).
class IdleWriter {
 public:
  IdleWriter(OutboundPeer& peer, PeerStream& stream) : peer_(peer) { peer_.idle_stream = &stream; }
  ~IdleWriter() { peer_.idle_stream = nullptr; }
  IdleWriter(const IdleWriter&) = delete;
  IdleWriter& operator=(const IdleWriter&) = delete;

 private:
  OutboundPeer& peer_;
};

}  // namespace

// Ends once the peer is stopped (close(), or no longer a member).
asio::awaitable<void> TcpMesh::Impl::link(OutboundPeer& peer) {
  struct Linking {
    OutboundPeer& peer;
    ~Linking() { peer.linking = false; }
  } linking{peer};
  asio::steady_timer pause(executor);  // cancelled with this coroutine by close()
  co_await redial(config, random, pause, peer.stopped,
                  [this, &peer] { return connect_once(peer); });
}

// One connection: dial, TLS if on, handshake, then write until it fails.
// True if it got through the handshake.
asio::awaitable<bool> TcpMesh::Impl::connect_once(OutboundPeer& peer) {
  tcp::socket socket(executor);
  if (!co_await dial(peer, socket)) co_return false;
  PeerStream stream(std::move(socket), tls);
  if (!co_await secure(peer, stream) || !co_await offer_handshake(peer, stream)) co_return false;
  peer.status.connected = true;
  co_await (write_frames(peer, stream) || watch(stream));
  peer.status.connected = false;
  co_return true;
}

// Over TLS, the peer's certificate must verify and name the peer dialled.
asio::awaitable<bool> TcpMesh::Impl::secure(OutboundPeer& peer, PeerStream& stream) {
  if (!stream.secure()) co_return true;
  auto [reason, why] = co_await tls_handshake_within(stream, asio::ssl::stream_base::client);
  if (!reason && !detail::certificate_names(stream.ssl(), peer.status.id)) {
    why = "the certificate of " + peer.address + " does not name \"" + peer.status.id + "\"";
  } else if (!reason) {
    co_return true;
  }
  peer.status.last_error = why.empty() ? "closed during the TLS handshake" : why;
  log("link to " + peer.status.id + ": " + peer.status.last_error);
  co_return false;
}

asio::awaitable<bool> TcpMesh::Impl::dial(OutboundPeer& peer, tcp::socket& socket) {
  if (peer.address.empty()) {
    peer.status.last_error = "no address known yet";
    co_return false;
  }
  std::pair<std::string, std::string> host_port;
  try {
    host_port = split_address(peer.address);
  } catch (const std::invalid_argument& error) {
    peer.status.last_error = error.what();
    co_return false;
  }
  tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(host_port.first, host_port.second, as_tuple_awaitable);
  if (resolve_error) {
    peer.status.last_error = "resolve " + peer.address + ": " + resolve_error.message();
    co_return false;
  }
  asio::steady_timer timer(executor, config.handshake_timeout);
  auto result = co_await (asio::async_connect(socket, endpoints, as_tuple_awaitable) ||
                          timer.async_wait(as_tuple_awaitable));
  if (result.index() == 1 || std::get<0>(std::get<0>(result))) {
    peer.status.last_error = "connect " + peer.address + ": " +
                             (result.index() == 1 ? std::string("timed out")
                                                  : std::get<0>(std::get<0>(result)).message());
    co_return false;
  }
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  co_return true;
}

asio::awaitable<bool> TcpMesh::Impl::offer_handshake(OutboundPeer& peer, PeerStream& stream) {
  std::string frame;
  append_frame(frame, encode(Hello{.version = protocol_version,
                                   .cluster = config.cluster,
                                   .from = config.id,
                                   .to = peer.status.id,
                                   .listen = config.listen}));
  auto [write_error, written] = co_await stream.write(std::string_view(frame));
  if (write_error) {
    peer.status.last_error = "handshake: " + write_error.message();
    co_return false;
  }
  FrameDecoder decoder(max_handshake_bytes);
  auto read = co_await read_frame_within(stream, decoder, config.handshake_timeout);
  if (!read.frame) {
    peer.status.last_error = "handshake: " + (read.problem.empty() ? "closed" : read.problem);
    co_return false;
  }
  auto reply = decode_hello_reply(*read.frame);
  if (!reply.ok() || !reply.value().accepted) {
    peer.status.last_error =
        reply.ok() ? "refused: " + reply.value().reason : "handshake: " + reply.error().message();
    log("link to " + peer.status.id + " " + peer.status.last_error);
    co_return false;
  }
  co_return true;
}

// Drains the queue: what a direct write left pending, then every frame
// waiting, in one gathered write (up to max_write_batch_bytes; over TLS one
// run of records), so that bursts cost one syscall, not one each.
asio::awaitable<void> TcpMesh::Impl::write_frames(OutboundPeer& peer, PeerStream& stream) {
  std::vector<std::string> batch;
  while (!peer.stopped) {
    if (peer.queue.empty() && !stream.pending_output()) {
      peer.wake.expires_at(asio::steady_timer::time_point::max());
      IdleWriter idle(peer, stream);
      co_await peer.wake.async_wait(as_tuple_awaitable);  // enqueue() or close() cancels it
      continue;
    }
    batch.clear();
    std::size_t bytes = 0;
    while (!peer.queue.empty() && bytes < max_write_batch_bytes) {
      bytes += peer.queue.front().size();
      peer.bound.removed(peer.queue.front().size());
      batch.push_back(std::move(peer.queue.front()));
      peer.queue.pop_front();
    }
    const auto [ec, written] = co_await stream.write(batch);
    if (ec) {
      if (!closed) peer.status.last_error = "write: " + ec.message();
      co_return;  // the batch is lost with the connection; Raft retransmits
    }
    peer.status.frames_out += batch.size();
    peer.status.bytes_out += written;
  }
}

// The accepting side never writes after its welcome: anything readable is
// the end of the connection (or a broken peer).
// (Over TLS 1.3, the read also consumes the handshake's last records.)
asio::awaitable<void> TcpMesh::Impl::watch(PeerStream& stream) {
  char byte;
  co_await stream.read_some(asio::buffer(&byte, 1));
}

void TcpMesh::Impl::log_failure(const std::string& task, std::exception_ptr error) const {
  try {
    std::rethrow_exception(error);
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::operation_aborted) log(task + " failed: " + e.what());
  } catch (const std::exception& e) {
    log(task + " failed: " + e.what());
  }
}

}  // namespace conflux::transport
