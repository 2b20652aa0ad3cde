// TcpMesh, accepting side: the handshake a dialling peer must pass, and the
// reader that turns its frames into messages for the inbox. Whatever a peer
// sends, the worst outcome is that its own connection is closed and counted.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <conflux/transport/tls_context.hpp>
#include <vector>

#include "scoped_count.hpp"
#include "tcp_mesh_impl.hpp"

namespace conflux::transport {

using namespace asio::experimental::awaitable_operators;
namespace {

std::string describe(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  return ec ? std::string("a closed socket")
            : remote.address().to_string() + ":" + std::to_string(remote.port());
}

asio::awaitable<void> write_frame(PeerStream& stream, std::string_view body) {
  std::string frame;
  append_frame(frame, body);
  co_await stream.write(std::string_view(frame));
}

/// The peer closed the connection: over TLS, possibly without close_notify.
bool ended(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

// An accepted connection: TLS, the hello, then the peer's messages.
asio::awaitable<void> TcpMesh::Impl::session(tcp::socket socket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const auto who = describe(socket);
  if (unproven >= config.max_unproven_connections) {
    co_return refuse(refusal_reasons::busy, who,
                     std::to_string(unproven) + " connections are still proving who they are");
  }
  PeerStream stream(std::move(socket), tls);
  FrameDecoder decoder(max_handshake_bytes);
  std::optional<raft::NodeId> peer;
  {
    const detail::ScopedCount counted(unproven);  // until the hello is settled
    const auto [reason, why] =
        co_await tls_handshake_within(stream, asio::ssl::stream_base::server);
    if (reason) co_return refuse(reason, who, why);
    peer = co_await accept_handshake(stream, decoder, who);
  }
  if (!peer) co_return;
  auto& from = peers.at(*peer);
  replace_inbound(from, stream, who);
  struct Release {  // however the reader ends
    PeerStream*& slot;
    PeerStream* mine;
    ~Release() {
      if (slot == mine) slot = nullptr;
    }
  } release{from.inbound, &stream};
  decoder.set_max_frame_bytes(config.max_frame_bytes);
  co_await read_messages(stream, decoder, *peer);
}

// A peer's newest accepted connection is the one read: an older one is
// closed, and its reader ends quietly (operation_aborted).
void TcpMesh::Impl::replace_inbound(OutboundPeer& peer, PeerStream& stream,
                                    const std::string& who) {
  if (peer.inbound) {
    log("connection from " + peer.status.id + " replaced by a newer one from " + who);
    boost::system::error_code ignored;
    peer.inbound->socket().close(ignored);
  }
  peer.inbound = &stream;
}

// Whoever reaches the port may cause refusals by the thousand: all are
// counted, and the log takes at most LimitedLog::per_second of them a second.
void TcpMesh::Impl::refuse(const char* reason, const std::string& who, const std::string& why) {
  ++refusals[reason];
  if (why.empty()) return;
  const auto line =
      limited.line("refused connection from " + who + ": " + why, std::chrono::steady_clock::now());
  if (!line.empty()) log(line);
}

// "" once secure (or on plaintext); else the refusal's reason and text.
asio::awaitable<std::pair<const char*, std::string>> TcpMesh::Impl::tls_handshake_within(
    PeerStream& stream, asio::ssl::stream_base::handshake_type side) {
  if (!stream.secure()) co_return std::pair<const char*, std::string>{};
  asio::steady_timer timer(executor, config.handshake_timeout);
  auto result = co_await (stream.handshake(side) || timer.async_wait(as_tuple_awaitable));
  if (result.index() == 1)
    co_return std::pair(refusal_reasons::tls_handshake, "the TLS handshake timed out");
  const auto ec = std::get<0>(result);
  if (!ec) co_return std::pair<const char*, std::string>{};
  if (ended(ec))
    co_return std::pair(refusal_reasons::tls_handshake, "");  // a port probe: counted only
  const auto failure = detail::handshake_failure(stream.ssl(), ec);
  co_return std::pair(
      failure.certificate ? refusal_reasons::certificate : refusal_reasons::tls_handshake,
      "TLS handshake: " + failure.text);
}

asio::awaitable<FrameRead> TcpMesh::Impl::read_frame(PeerStream& stream, FrameDecoder& decoder) {
  char buffer[4096];
  for (;;) {
    if (auto frame = decoder.next()) co_return FrameRead{std::string(*frame), {}};
    if (auto error = decoder.error())
      co_return FrameRead{std::nullopt, std::string(to_string(*error))};
    auto [ec, n] = co_await stream.read_some(asio::buffer(buffer));
    if (ec) co_return FrameRead{std::nullopt, ended(ec) ? "" : ec.message()};
    decoder.feed(std::string_view(buffer, n));
  }
}

asio::awaitable<FrameRead> TcpMesh::Impl::read_frame_within(PeerStream& stream,
                                                            FrameDecoder& decoder,
                                                            std::chrono::milliseconds timeout) {
  asio::steady_timer timer(executor, timeout);
  auto result = co_await (read_frame(stream, decoder) || timer.async_wait(as_tuple_awaitable));
  if (result.index() == 1) co_return FrameRead{std::nullopt, "handshake timed out"};
  co_return std::get<0>(std::move(result));
}

std::string TcpMesh::Impl::refusal_reason(const Hello& hello) {
  if (auto reason = hello_refusal(hello, config.cluster, config.id); !reason.empty()) return reason;
  auto peer = peers.find(hello.from);
  if (peer != peers.end() && !peer->second.stopped) return {};
  if (!open) return "\"" + hello.from + "\" is not a member of this cluster";
  // Join mode: a member of the cluster is adding this node. Until the log
  // gives the configuration (set_peers), it is answered at the address its
  // hello gives.
  if (peer == peers.end()) peer = peers.try_emplace(hello.from, executor, hello.from, "").first;
  if (peer->second.address.empty()) peer->second.address = hello.listen;
  start_link(peer->second);
  return {};
}

// The dialler speaks first: one Hello, within the handshake timeout (which
// also bounds how long a silent or slow connection can hold a session).
// Over TLS, its certificate must name the id it says it is.
asio::awaitable<std::optional<raft::NodeId>> TcpMesh::Impl::accept_handshake(
    PeerStream& stream, FrameDecoder& decoder, const std::string& who) {
  auto read = co_await read_frame_within(stream, decoder, config.handshake_timeout);
  if (!read.frame) {
    // Every refusal gets a line; only a connection that closes without
    // sending a byte (a port probe) goes unlogged.
    if (read.problem.empty() && decoder.buffered() > 0) {
      read.problem = "closed after " + std::to_string(decoder.buffered()) +
                     " bytes, before a whole hello frame";
    }
    refuse(refusal_reasons::hello, who, read.problem);
    co_return std::nullopt;
  }
  auto hello = decode_hello(*read.frame);
  const char* kind = refusal_reasons::hello;
  std::string reason;
  if (!hello.ok()) {
    reason = hello.error().message();
  } else if (stream.secure() && !detail::certificate_names(stream.ssl(), hello.value().from)) {
    kind = refusal_reasons::identity;
    reason = "its certificate does not name \"" + hello.value().from + "\"";
  } else {
    reason = refusal_reason(hello.value());
  }
  if (!reason.empty()) {
    refuse(kind, who, reason);
    // A named local (awaitable.hpp).
    const std::string refusal = encode(HelloReply{.accepted = false, .reason = reason});
    co_await write_frame(stream, refusal);
    co_return std::nullopt;
  }
  const std::string welcome = encode(HelloReply{.accepted = true, .reason = {}});
  co_await write_frame(stream, welcome);
  co_return hello.value().from;
}

asio::awaitable<void> TcpMesh::Impl::read_messages(PeerStream& stream, FrameDecoder& decoder,
                                                   const raft::NodeId& peer) {
  PeerStatus& status = peers.at(peer).status;
  std::vector<char> buffer(64 << 10);
  for (;;) {
    while (auto frame = decoder.next()) {
      if (!deliver_frame(*frame, peer, status)) co_return;
    }
    if (auto error = decoder.error()) {
      status.count_drop(DropReason::frame_error);
      status.last_error = std::string(to_string(*error)) + " (announced " +
                          std::to_string(decoder.announced()) + " bytes)";
      log("closing connection from " + peer + ": " + status.last_error);
      co_return;
    }
    auto [ec, n] = co_await stream.read_some(asio::buffer(buffer));
    if (ec) {
      if (!ended(ec) && ec != asio::error::operation_aborted && !closed) {
        status.last_error = "read: " + ec.message();
        log("closing connection from " + peer + ": " + status.last_error);
      }
      co_return;
    }
    status.bytes_in += n;
    decoder.feed(std::string_view(buffer.data(), n));
  }
}

// Decodes one frame and hands it to the inbox. A frame that does not decode,
// or that names another sender or recipient, closes the connection.
bool TcpMesh::Impl::deliver_frame(std::string_view frame, const raft::NodeId& peer,
                                  PeerStatus& status) {
  auto packet = check_inbound(decode_packet(frame), peer, config.id, status);
  if (!packet) {
    log("closing connection from " + peer + ": " + status.last_error);
    return false;
  }
  inbox(std::move(*packet));
  return true;
}

}  // namespace conflux::transport
