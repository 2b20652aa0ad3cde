#pragma once
// A whole HTTP answer on a MaybeTlsStream, after which the connection
// closes. Its own header: the HTTP writer it instantiates is heavy to
// compile, and only the hub and the dashboard answer this way.

#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <conflux/transport/maybe_tls_stream.hpp>
#include <string>

namespace conflux::transport::detail {

/// A whole HTTP answer, never cached (no-store), marked "Connection: close":
/// the hub's and the dashboard's pages and refusals. The caller closes the
/// connection once it returns. Parameters by value: a
/// coroutine keeps its own copies (awaitable.hpp).
inline boost::asio::awaitable<void> answer_and_close(MaybeTlsStream& stream, unsigned version,
                                                     boost::beast::http::status status,
                                                     std::string content_type, std::string body) {
  namespace http = boost::beast::http;
  http::response<http::string_body> response{status, version};
  response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  response.keep_alive(false);
  response.prepare_payload();
  co_await http::async_write(stream, response, as_tuple_awaitable);
}

}  // namespace conflux::transport::detail
