// TcpMesh: construction, the public surface, task bookkeeping and the
// listener (tcp_session.cpp: what happens on an accepted connection).
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <conflux/transport/accept_pause.hpp>
#include <conflux/transport/tls_context.hpp>
#include <iostream>
#include <random>
#include <stdexcept>

#include "self_delivery.hpp"
#include "tcp_mesh_impl.hpp"

namespace conflux::transport {

using namespace asio::experimental::awaitable_operators;

namespace {

tcp::endpoint resolve_listen(asio::any_io_executor executor, const std::string& address) {
  const auto [host, port] = split_address(address);
  tcp::resolver resolver(executor);
  const auto results = resolver.resolve(host, port, tcp::resolver::passive);
  if (results.empty()) throw std::invalid_argument("cannot resolve listen address " + address);
  return results.begin()->endpoint();
}

void validate(const TcpMeshConfig& config) {
  if (config.id.empty()) throw std::invalid_argument("\"id\" must not be empty");
  if (config.cluster.empty()) throw std::invalid_argument("\"cluster\" must not be empty");
  if (config.max_frame_bytes < 1024) {
    throw std::invalid_argument("\"max_frame_bytes\" must be at least 1024");
  }
  validate(static_cast<const LinkSettings&>(config));
  const auto& tls = config.tls;
  if ((tls.certificate.empty() || tls.private_key.empty() || tls.authority.empty()) &&
      !(tls.certificate.empty() && tls.private_key.empty() && tls.authority.empty())) {
    throw std::invalid_argument("\"tls\" needs a certificate, its key and the authority, or none");
  }
}

}  // namespace

TcpMesh::Impl::Impl(asio::any_io_executor ex, TcpMeshConfig cfg, InboxHandler handler)
    : executor(ex),
      config(std::move(cfg)),
      inbox(std::move(handler)),
      acceptor(ex),
      random(std::random_device{}()),
      all_done(ex, asio::steady_timer::time_point::max()) {
  validate(config);
  for (const auto& [id, address] : config.peers) {
    if (id != config.id) peers.try_emplace(id, ex, id, address);
  }
  open = peers.empty();
  if (config.tls.enabled()) tls = detail::make_tls_context(config.tls, false, config.id);
  const auto endpoint = resolve_listen(ex, config.listen);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
}

void TcpMesh::Impl::log(const std::string& line) const {
  const std::string full = "[conflux tcp " + config.id + "] " + line;
  if (config.log) {
    config.log(full);
  } else {
    std::cerr << full << '\n';
  }
}

// Spawns a task whose cancellation slot close() can trigger; logs anything it
// throws; run() returns once the last task has ended after close().
void TcpMesh::Impl::spawn(asio::awaitable<void> task, std::string name) {
  if (closed) return;  // close() has already cancelled everything it knows of
  auto signal = signals.emplace(signals.end());
  ++tasks;
  asio::co_spawn(
      executor, std::move(task),
      asio::bind_cancellation_slot(signal->signal.slot(),
                                   [self = shared_from_this(), signal, name](std::exception_ptr e) {
                                     signal->finished = true;
                                     if (e) self->log_failure(name, e);
                                     // co_spawn may still have a cancellation hop queued that
                                     // uses the signal: forget it only after that has run.
                                     asio::post(self->executor, [self, signal] {
                                       self->signals.erase(signal);
                                       if (--self->tasks == 0 && self->closed)
                                         self->all_done.cancel();
                                     });
                                   }));
}

TcpMesh::TcpMesh(asio::any_io_executor executor, TcpMeshConfig config, InboxHandler inbox)
    : impl_(std::make_shared<Impl>(executor, std::move(config), std::move(inbox))) {}

TcpMesh::~TcpMesh() {
  close();
}

std::uint16_t TcpMesh::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void TcpMesh::set_peer_address(const raft::NodeId& peer, std::string address) {
  auto it = impl_->peers.find(peer);
  if (it == impl_->peers.end()) throw std::invalid_argument("\"" + peer + "\" is not a peer");
  it->second.address = std::move(address);
}

void TcpMesh::send(Packet message) {
  const auto& to = recipient(message);
  if (detail::delivered_to_self(impl_, to, message)) return;
  auto it = impl_->peers.find(to);
  if (it == impl_->peers.end()) return;  // not a peer of this node: nothing to count against
  if (it->second.stopped) return it->second.status.count_drop(DropReason::unknown_peer);
  impl_->enqueue(it->second, message);
}

void TcpMesh::set_peers(const std::map<raft::NodeId, std::string>& members) {
  auto& impl = *impl_;
  impl.open = false;
  for (auto& [id, peer] : impl.peers) {
    if (members.count(id)) continue;
    peer.stopped = true;  // its link ends: the writer wakes and sees it
    peer.wake.cancel();
  }
  for (const auto& [id, address] : members) {
    if (id == impl.config.id) continue;
    auto [it, added] = impl.peers.try_emplace(id, impl.executor, id, address);
    auto& peer = it->second;
    if (!address.empty()) peer.address = address;
    if (!added && !peer.stopped) continue;
    peer.stopped = impl.closed;
    impl.start_link(peer);
  }
}

void TcpMesh::Impl::start_link(OutboundPeer& peer) {
  if (!running || closed || peer.linking) return;
  peer.linking = true;
  spawn(link(peer), "link to " + peer.status.id);
}

void TcpMesh::Impl::enqueue(OutboundPeer& peer, const Packet& message) {
  if (closed) return peer.status.count_drop(DropReason::closed);
  std::string frame(frame_header_bytes, '\0');
  encode_to(frame, message);
  const auto body = frame.size() - frame_header_bytes;
  if (!peer.bound.admit(frame.size(), config.max_frame_bytes + frame_header_bytes, config,
                        peer.status)) {
    return;
  }
  write_frame_header(frame.data(), static_cast<std::uint32_t>(body));
  if (write_now(peer, frame)) return;
  peer.bound.added(frame.size());
  peer.queue.push_back(std::move(frame));
  peer.wake.cancel();
}

// With the writer idle and nothing queued, one non-blocking write usually
// sends the whole frame at once, saving a trip through the scheduler (this is
// the latency path: a lone vote or acknowledgement). Whatever the socket does
// not take waits in the stream, and the writer is woken to send it.
bool TcpMesh::Impl::write_now(OutboundPeer& peer, const std::string& frame) {
  if (!peer.idle_stream || !peer.queue.empty() || frame.size() > max_direct_write_bytes)
    return false;
  if (!peer.idle_stream->write_now(frame)) return false;  // output pending: it goes first
  ++peer.status.frames_out;
  peer.status.bytes_out += frame.size();
  if (peer.idle_stream->pending_output()) peer.wake.cancel();
  return true;
}

asio::awaitable<void> TcpMesh::run() {
  auto impl = impl_;
  if (impl->running || impl->closed) co_return;
  impl->running = true;
  impl->spawn(impl->accept_loop(), "listener");
  for (auto& [id, peer] : impl->peers) impl->start_link(peer);
  co_await impl->all_done.async_wait(as_tuple_awaitable);
}

void TcpMesh::close() {
  auto& impl = *impl_;
  if (impl.closed) return;
  impl.closed = true;
  boost::system::error_code ignored;
  impl.acceptor.close(ignored);
  for (auto& [id, peer] : impl.peers) {
    peer.stopped = true;
    peer.wake.cancel();
    peer.status.connected = false;
  }
  for (auto& task : impl.signals) {
    if (!task.finished) task.signal.emit(asio::cancellation_type::terminal);
  }
  if (impl.tasks == 0) impl.all_done.cancel();
}

std::map<std::string, std::uint64_t> TcpMesh::refusals() const {
  return impl_->refusals;
}

std::string TcpMesh::reload_tls() {
  auto& impl = *impl_;
  auto problem = detail::reload_tls_context(impl.tls, impl.config.tls, false, impl.config.id);
  if (!problem.empty()) {
    impl.log("TLS not reloaded, the certificates in use stay: " + problem);
  } else if (impl.tls) {
    impl.log("TLS certificates reloaded; new connections use them");
  }
  return problem;
}

std::vector<PeerStatus> TcpMesh::status() const {
  std::vector<PeerStatus> out;
  for (const auto& [id, peer] : impl_->peers) {
    if (!peer.stopped || impl_->closed) out.push_back(peer.status);
  }
  return out;
}

// ------------------------------------------------------------ accepting side

asio::awaitable<void> TcpMesh::Impl::accept_loop() {
  while (!closed) {
    auto [ec, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
    if (closed) co_return;  // accepted just as close() ran: nobody would cancel its session
    if (ec) {
      if (closed || ec == asio::error::operation_aborted) co_return;
      log("accept failed: " + ec.message());
      co_await pause_after_accept_error(acceptor);
      continue;
    }
    spawn(session(std::move(socket)), "inbound session");
  }
}

}  // namespace conflux::transport
