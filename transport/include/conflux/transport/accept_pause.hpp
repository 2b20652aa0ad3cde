#pragma once
// What every accept loop does when an accept fails while it is still open:
// waits a moment before the next one. The failures that persist (EMFILE or
// ENFILE when out of descriptors, ENOBUFS, ENOMEM) would otherwise have the
// loop retry at once, spinning a CPU and starving the connections already
// open, for as long as they last. Include only where Asio is used already.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <conflux/transport/awaitable.hpp>

namespace conflux::transport {

inline constexpr std::chrono::milliseconds accept_retry_pause{100};

/// Closing the acceptor does not cut the pause short; the loop's own
/// "closed" check after it ends the loop.
inline boost::asio::awaitable<void> pause_after_accept_error(
    boost::asio::ip::tcp::acceptor& acceptor) {
  boost::asio::steady_timer pause(acceptor.get_executor(), accept_retry_pause);
  co_await pause.async_wait(as_tuple_awaitable);
}

}  // namespace conflux::transport
