#pragma once
// A packet a node addresses to itself never touches the wire: it arrives on
// a later turn of the channel's executor (never inside send(), which the
// engine may call while handling another packet), unless the channel
// closed meanwhile. Every channel does this alike.

#include <boost/asio/post.hpp>
#include <conflux/transport/channel.hpp>
#include <memory>
#include <utility>

namespace conflux::transport::detail {

/// If `to` is `impl`'s own node, posts `packet` to its inbox and returns
/// true; else leaves `packet` alone. `Impl` has config.id, executor, closed
/// and inbox.
template <class Impl>
bool delivered_to_self(const std::shared_ptr<Impl>& impl, const raft::NodeId& to, Packet& packet) {
  if (to != impl->config.id) return false;
  boost::asio::post(impl->executor, [impl, p = std::move(packet)]() mutable {
    if (!impl->closed) impl->inbox(std::move(p));
  });
  return true;
}

}  // namespace conflux::transport::detail
