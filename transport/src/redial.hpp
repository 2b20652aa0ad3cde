#pragma once
// The redial loop of both dialling channels (TcpMesh's links to its peers,
// WsChannel's link to its hub): attempt a connection, and between attempts
// wait a jittered backoff that starts over at the minimum once an attempt got
// through (LinkSettings, next_backoff).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <conflux/raft/random.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/link_settings.hpp>

namespace conflux::transport {

/// Runs `attempt()`, an awaitable<bool> that is true when the connection got
/// through (however it ended afterwards), until `closed` is set, waiting on
/// `pause` between attempts. close() ends the wait by cancelling `pause` or
/// the coroutine.
template <class Attempt>
boost::asio::awaitable<void> redial(const LinkSettings& settings, raft::Random& random,
                                    boost::asio::steady_timer& pause, const bool& closed,
                                    Attempt attempt) {
  auto backoff = settings.backoff_min;
  while (!closed) {
    if (co_await attempt()) backoff = settings.backoff_min;
    if (closed) co_return;
    pause.expires_after(next_backoff(settings, backoff, random));
    co_await pause.async_wait(as_tuple_awaitable);
  }
}

}  // namespace conflux::transport
