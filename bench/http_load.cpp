#include "http_load.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/awaitable.hpp>
#include <stdexcept>

#include "http_response.hpp"
#include "spawn_logged.hpp"

namespace conflux::bench {

using transport::as_tuple_awaitable;

namespace asio = boost::asio;
using asio::ip::tcp;

struct HttpLoad::Connection {
  tcp::endpoint endpoint;
  std::string request;  ///< the bytes of every request on this connection
};

namespace {

/// Received bytes not yet consumed. Unlike a std::string it never zeroes
/// what it grows into, and it keeps its capacity across responses.
class ReceiveBuffer {
 public:
  std::string_view data() const { return {bytes_.data() + begin_, end_ - begin_}; }
  asio::mutable_buffer prepare(std::size_t at_least) {
    if (begin_ == end_) begin_ = end_ = 0;
    if (bytes_.size() - end_ < at_least)
      bytes_.resize(std::max(bytes_.size() * 2, end_ + at_least));
    return asio::buffer(bytes_.data() + end_, bytes_.size() - end_);
  }
  void commit(std::size_t n) { end_ += n; }
  void consume(std::size_t n) { begin_ += n; }

 private:
  std::vector<char> bytes_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

struct Answer {
  std::string failure;  ///< non-empty: the connection failed (I/O error, malformed answer)
  unsigned status = 0;
  std::string code;  ///< the error code a node puts in a non-200 answer
};

Answer failed(std::string why) {
  Answer answer;
  answer.failure = std::move(why);
  return answer;
}

/// The "code" of a node's error body, for the error table.
std::string error_code_of(std::string_view body) {
  boost::system::error_code ec;
  const auto json = boost::json::parse(body, ec);
  if (ec || !json.is_object()) return "";
  const auto* code = json.get_object().if_contains("code");
  return code && code->is_string() ? std::string(code->get_string()) : "";
}

asio::awaitable<Answer> read_answer(tcp::socket& socket, ReceiveBuffer& buffer) {
  ResponseHead head;
  for (;;) {
    const auto parsed = parse_response_head(buffer.data(), head);
    if (parsed == HeadParse::malformed) co_return failed("malformed answer");
    const auto size = head.header_bytes + head.content_length;
    if (parsed == HeadParse::complete && buffer.data().size() >= size) {
      Answer answer;
      answer.status = head.status;
      if (head.status != 200)
        answer.code = error_code_of(buffer.data().substr(head.header_bytes, head.content_length));
      buffer.consume(size);
      co_return answer;
    }
    const auto space =
        buffer.prepare(parsed == HeadParse::complete ? size - buffer.data().size() : 4096);
    auto [ec, n] = co_await socket.async_read_some(space, as_tuple_awaitable);
    if (ec) co_return failed("read: " + ec.message());
    buffer.commit(n);
  }
}

/// Requests and answers on one open connection until it fails or the
/// recorder stops the run.
asio::awaitable<void> exchange(tcp::socket& socket, const std::string& request,
                               LoadRecorder& recorder) {
  ReceiveBuffer buffer;
  const auto request_bytes = asio::buffer(request);  // g++ 12: no temporaries inside co_await
  for (bool more = true; more;) {
    const auto sent = Clock::now();
    auto [write_error, written] =
        co_await asio::async_write(socket, request_bytes, as_tuple_awaitable);
    if (write_error) {
      recorder.on_error("write: " + write_error.message(), Clock::now());
      co_return;
    }
    const auto answer = co_await read_answer(socket, buffer);
    const auto done = Clock::now();
    if (!answer.failure.empty()) {
      recorder.on_error(answer.failure, done);
      co_return;
    }
    more =
        answer.status == 200
            ? recorder.on_success(sent, done)
            : recorder.on_error("HTTP " + std::to_string(answer.status) + " " + answer.code, done);
  }
}

/// One client: connects (again, after a pause, when the connection fails)
/// and exchanges requests until the run stops.
asio::awaitable<void> client(std::shared_ptr<LoadRecorder> recorder, tcp::endpoint endpoint,
                             std::string request) {
  const auto executor = co_await asio::this_coro::executor;
  asio::steady_timer pause(executor);
  while (!recorder->stopping()) {
    tcp::socket socket(executor);
    auto [ec] = co_await socket.async_connect(endpoint, as_tuple_awaitable);
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      co_await exchange(socket, request, *recorder);
    } else if (!recorder->on_error("connect: " + ec.message(), Clock::now())) {
      break;
    }
    pause.expires_after(std::chrono::milliseconds(50));
    co_await pause.async_wait(as_tuple_awaitable);
  }
}

}  // namespace

HttpLoad::HttpLoad(const std::vector<std::string>& addresses, int concurrency, std::string body) {
  std::vector<tcp::endpoint> endpoints;
  tcp::resolver resolver(io_);
  for (const auto& address : addresses) {
    const auto [host, port] = transport::split_address(address);
    boost::system::error_code ec;
    const auto results = resolver.resolve(host, port, ec);
    if (ec || results.empty())
      throw std::runtime_error("cannot resolve " + address + ": " + ec.message());
    endpoints.push_back(results.begin()->endpoint());
  }
  for (int i = 0; i < concurrency; ++i) {
    const auto index = static_cast<std::size_t>(i) % addresses.size();
    connections_.push_back({endpoints[index], perform_request(addresses[index], "write", body)});
  }
}

HttpLoad::~HttpLoad() {
  stop();
}

void HttpLoad::start(std::shared_ptr<LoadRecorder> recorder) {
  for (const auto& connection : connections_)
    asio::co_spawn(io_, client(recorder, connection.endpoint, connection.request), log_unexpected);
  thread_ = std::thread([this] { io_.run(); });
}

void HttpLoad::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace conflux::bench
