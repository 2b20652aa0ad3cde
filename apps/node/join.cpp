#include "join.hpp"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/tls_context.hpp>

namespace conflux::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using transport::as_tuple_awaitable;

struct Answer {
  unsigned status = 0;  // 0: no answer
  std::string body;     // or, without an answer, what went wrong
};

/// One POST /members on `stream`, plain or TLS; `host` is the Host header
/// ("host:port", an IPv6 address in brackets).
template <class Stream>
asio::awaitable<Answer> exchange(Stream& stream, const std::string& host, const std::string& body,
                                 const std::string& token) {
  http::request<http::string_body> request{http::verb::post, "/members", 11};
  request.set(http::field::host, host);
  request.set(http::field::content_type, "application/json");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  request.body() = body;
  request.prepare_payload();
  auto [write_error, written] = co_await http::async_write(stream, request, as_tuple_awaitable);
  if (write_error) co_return Answer{0, "cannot send: " + write_error.message()};
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  auto [read_error, read] = co_await http::async_read(stream, buffer, response, as_tuple_awaitable);
  if (read_error) co_return Answer{0, "no answer: " + read_error.message()};
  co_return Answer{response.result_int(), response.body()};
}

asio::awaitable<Answer> post_members(const std::string& member, const std::string& body,
                                     const JoinCredentials& credentials) {
  const auto [host, port] = transport::split_address(member);
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] = co_await resolver.async_resolve(host, port, as_tuple_awaitable);
  if (resolve_error) co_return Answer{0, "cannot resolve " + host + ": " + resolve_error.message()};
  beast::tcp_stream stream(executor);
  stream.expires_after(std::chrono::seconds(60));  // a voter's catch-up can take a while
  auto [connect_error, ignored] = co_await stream.async_connect(endpoints, as_tuple_awaitable);
  if (connect_error) co_return Answer{0, "cannot connect: " + connect_error.message()};
  if (!credentials.tls.enabled())
    co_return co_await exchange(stream, member, body, credentials.token);
  const auto context = transport::detail::make_tls_context(credentials.tls);
  asio::ssl::stream<beast::tcp_stream&> secure(stream, *context);
  auto [handshake_error] =
      co_await secure.async_handshake(asio::ssl::stream_base::client, as_tuple_awaitable);
  if (handshake_error) {
    co_return Answer{
        0, "TLS handshake: " +
               transport::detail::handshake_failure(secure.native_handle(), handshake_error).text};
  }
  co_return co_await exchange(secure, member, body, credentials.token);
}

}  // namespace

asio::awaitable<void> ask_to_join(std::string member, std::string id, std::string address,
                                  JoinCredentials credentials, LogSink log) {
  const auto body = boost::json::serialize(
      boost::json::value{{"id", id}, {"address", address}, {"learner", false}});
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (auto wait = std::chrono::seconds(1);; wait = std::min(wait * 2, std::chrono::seconds(10))) {
    const auto answer = co_await post_members(member, body, credentials);
    if (answer.status == 200) {
      log(LogLevel::info, "joined the cluster through " + member);
      co_return;
    }
    if (answer.status >= 400 && answer.status < 500 && answer.status != 409) {
      log(LogLevel::warning, "the cluster did not add this node (" + member + " answered " +
                                 std::to_string(answer.status) + "): " + answer.body);
      co_return;
    }
    log(LogLevel::warning, "asking " + member + " to add this node: " +
                               (answer.status ? std::to_string(answer.status) + " " : "") +
                               answer.body + "; trying again");
    pause.expires_after(wait);
    co_await pause.async_wait(as_tuple_awaitable);
  }
}

}  // namespace conflux::daemon
