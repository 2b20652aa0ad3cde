#pragma once
// The idioms every coroutine of ours follows, written once.
// Include only where Asio is used already: never from a header that the
// core, the engine or most tests include.
//
// g++ 12 and co_await: a temporary built inside a co_await expression (a
// braced list holding a string literal, a string built by operator+) can be
// destroyed before the awaited operation reads it. Build such values in a
// named local first; call sites say "named local (awaitable.hpp)".
// g++ 12 also evaluates both operands of a conditional expression anywhere
// in a co_await expression, the operand (`co_await (tls ? read(a) :
// read(b))`) or an argument (`co_await answer(found ? found->body : "")`,
// which read an empty optional): write two co_awaits under an if, or set
// named locals under an if first.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace conflux::transport {

/// Expected I/O outcomes (eof, operation_aborted, a closed WebSocket) come
/// back as values: `auto [ec, n] = co_await op(..., as_tuple_awaitable);`.
inline constexpr auto as_tuple_awaitable = boost::asio::as_tuple(boost::asio::use_awaitable);

/// A completion handler for co_spawn: an exception that escapes the
/// coroutine (a bug: expected outcomes are values) is logged as
/// "<task> failed: <what>", never lost as with `detached`.
inline auto log_escaped(std::string task, std::function<void(std::string_view)> log) {
  return [task = std::move(task), log = std::move(log)](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log(task + " failed: " + e.what());
    } catch (...) {
      log(task + " failed with a non-standard exception");
    }
  };
}

}  // namespace conflux::transport
