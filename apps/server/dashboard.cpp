// The dashboard server: static files over HTTP(S), and one WebSocket per
// open page that receives snapshots and sends commands. One reader and one
// writer per WebSocket, as Beast requires.
#include "dashboard.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <conflux/transport/accept_pause.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/answer_and_close.hpp>
#include <conflux/transport/maybe_tls_stream.hpp>
#include <conflux/transport/tls_context.hpp>
#include <deque>
#include <list>

#include "browser_guard.hpp"
#include "dashboard_assets.hpp"
#include "dashboard_snapshot.hpp"

namespace conflux::server {

using transport::as_tuple_awaitable;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;

namespace {
constexpr auto refresh = std::chrono::milliseconds(100);
constexpr std::size_t max_queued = 64;  // a page that reads slower loses snapshots
}  // namespace

std::string DashboardSource::control(const std::string&, const std::string&) {
  return "this dashboard has no node controls";
}

/// One connection, and once upgraded, one open page.
struct Page {
  Page(tcp::socket socket, std::shared_ptr<asio::ssl::context> tls)
      : ws(std::move(socket), std::move(tls)),
        wake(ws.get_executor(), asio::steady_timer::time_point::max()) {}
  websocket::stream<transport::detail::MaybeTlsStream> ws;
  std::deque<std::string> queue;
  asio::steady_timer wake;
  bool closed = false;

  /// Snapshots may be dropped for a page that reads slowly (a newer one
  /// follows); replies to its commands never are.
  void push(std::string text, bool droppable = false) {
    if (closed || (droppable && queue.size() >= max_queued)) return;
    queue.push_back(std::move(text));
    wake.cancel();
  }
};

struct Dashboard::Impl : std::enable_shared_from_this<Dashboard::Impl> {
  Impl(asio::any_io_executor ex, DashboardSource& s, DashboardOptions o)
      : executor(ex),
        source(s),
        options(std::move(o)),
        tls(options.tls.enabled() ? transport::detail::make_tls_context(options.tls, true)
                                  : nullptr),
        acceptor(ex),
        ticker(ex) {
    const auto [host, port] = transport::split_address(options.listen);
    tcp::resolver resolver(ex);
    const auto endpoint = resolver.resolve(host, port, tcp::resolver::passive).begin()->endpoint();
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    boost::system::error_code ec;
    acceptor.bind(endpoint, ec);
    if (ec) throw std::system_error(ec, "cannot listen for the dashboard on " + options.listen);
    acceptor.listen();
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);
  asio::awaitable<void> open_page(std::shared_ptr<Page> page,
                                  const http::request<http::empty_body>& request);
  bool admitted(std::string_view target) const;
  void log(LogLevel level, const std::string& line) const {
    if (options.log) options.log(level, line);
  }
  asio::awaitable<void> run_page(std::shared_ptr<Page> page);
  asio::awaitable<void> read_commands(std::shared_ptr<Page> page);
  asio::awaitable<void> write_queue(std::shared_ptr<Page> page);
  asio::awaitable<void> perform(std::weak_ptr<Page> page, std::int64_t id, std::string node,
                                std::string method, json::array args);
  void command(const std::shared_ptr<Page>& page, const std::string& text);
  asio::awaitable<void> broadcast_changes();

  asio::any_io_executor executor;
  DashboardSource& source;
  DashboardOptions options;
  std::shared_ptr<asio::ssl::context> tls;  // HTTPS: what new connections use
  /// co_spawn's handler: what escapes a coroutine is logged.
  auto logged(std::string task) const {
    return transport::log_escaped(std::move(task), [log = options.log](std::string_view line) {
      if (log) log(LogLevel::error, line);
    });
  }
  tcp::acceptor acceptor;
  asio::steady_timer ticker;
  std::list<std::weak_ptr<Page>> pages;
  std::list<beast::tcp_stream*> streams;  // connections before the upgrade
  std::string last_snapshot;
  bool stopped = false;
};

asio::awaitable<void> Dashboard::Impl::accept_loop() {
  auto self = shared_from_this();
  while (!stopped) {
    auto [ec, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
    if (ec) {
      if (stopped || ec == asio::error::operation_aborted) break;
      log(LogLevel::warning, "dashboard accept failed: " + ec.message());
      co_await transport::pause_after_accept_error(acceptor);
      continue;
    }
    asio::co_spawn(executor, serve(std::move(socket)), logged("dashboard connection"));
  }
}

namespace {

/// A header's value ("" when absent), as a std::string_view: Beast's own
/// string_view converts through a temporary std::string.
std::string_view header(const http::request<http::empty_body>& request, http::field field) {
  const auto value = request[field];
  return {value.data(), value.size()};
}

}  // namespace

// Without a token, every page; with one, a /ws?token= that carries it.
bool Dashboard::Impl::admitted(std::string_view target) const {
  if (options.token.empty()) return true;
  const auto query = target.find("?token=");
  if (query == std::string_view::npos) return false;
  auto given = target.substr(query + 7);
  given = given.substr(0, given.find('&'));
  return transport::same_secret(given, options.token);
}

// One request per connection, within 10 s of the accept (the TLS handshake
// too): a file, or the upgrade to the page's WebSocket.
asio::awaitable<void> Dashboard::Impl::serve(tcp::socket socket) {
  auto self = shared_from_this();
  if (stopped) co_return;
  auto page = std::make_shared<Page>(std::move(socket), tls);
  auto& stream = page->ws.next_layer();
  auto& lowest = beast::get_lowest_layer(page->ws);
  lowest.expires_after(std::chrono::seconds(10));
  streams.push_back(&lowest);  // stop() closes it until it is a page
  const auto registered = std::prev(streams.end());
  const auto handshake_error = co_await stream.handshake(asio::ssl::stream_base::server);
  if (handshake_error && !stopped) {
    log(LogLevel::warning,
        "dashboard connection refused: TLS handshake: " +
            transport::detail::handshake_failure(stream.ssl(), handshake_error).text);
  }
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  boost::system::error_code ec = handshake_error;
  if (!ec)
    std::tie(ec, std::ignore) =
        co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
  streams.erase(registered);
  if (ec || stopped) co_return;
  const auto& request = parser.get();
  const std::string_view target(request.target().data(), request.target().size());
  const auto path = target.substr(0, target.find('?'));  // "/?token=..." is the page
  if (path == "/ws" && websocket::is_upgrade(request)) {
    co_await open_page(page, request);
    co_return;
  }
  // Named locals, no conditional inside the co_await (awaitable.hpp).
  const auto asset = dashboard_asset(path);
  auto status = http::status::not_found;
  std::string content_type = "text/plain";
  std::string body = "not found\n";
  if (asset) {
    status = http::status::ok;
    content_type = asset->content_type;
    body = asset->body;
  }
  co_await transport::detail::answer_and_close(stream, request.version(), status,
                                               std::move(content_type), std::move(body));
}

// The page's WebSocket, if it comes from the same origin with the token.
asio::awaitable<void> Dashboard::Impl::open_page(std::shared_ptr<Page> page,
                                                 const http::request<http::empty_body>& request) {
  const std::string_view target(request.target().data(), request.target().size());
  // Without a token, a page of another site in an operator's browser must
  // not drive the nodes (with one, it cannot present the token).
  boost::system::error_code ignored;
  const auto local =
      beast::get_lowest_layer(page->ws).socket().local_endpoint(ignored).address().is_loopback();
  if (const auto foreign = options.token.empty()
                               ? foreign_browser_request(header(request, http::field::origin),
                                                         header(request, http::field::host),
                                                         tls ? "https" : "http", local)
                               : std::string();
      !foreign.empty()) {
    log(LogLevel::warning, "dashboard connection refused: " + foreign);
    co_return;
  }
  if (!admitted(target)) {
    log(LogLevel::warning, "dashboard connection refused: no token, or a wrong one");
    co_await transport::detail::answer_and_close(
        page->ws.next_layer(), request.version(), http::status::unauthorized, "text/plain",
        "this dashboard needs the cluster's token: open it with ?token=\n");
    co_return;
  }
  beast::get_lowest_layer(page->ws).expires_never();
  page->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  pages.push_back(page);  // from now on stop() closes it
  auto [accept_error] = co_await page->ws.async_accept(request, as_tuple_awaitable);
  if (!accept_error && !stopped) co_await run_page(page);
}

asio::awaitable<void> Dashboard::Impl::run_page(std::shared_ptr<Page> page) {
  page->push(last_snapshot.empty() ? snapshot_json(source) : last_snapshot);
  co_await (read_commands(page) && write_queue(page));
}

asio::awaitable<void> Dashboard::Impl::read_commands(std::shared_ptr<Page> page) {
  for (;;) {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await page->ws.async_read(buffer, as_tuple_awaitable);
    if (ec) break;
    command(page, beast::buffers_to_string(buffer.data()));
  }
  page->closed = true;
  page->wake.cancel();
}

asio::awaitable<void> Dashboard::Impl::write_queue(std::shared_ptr<Page> page) {
  while (!page->closed) {
    if (page->queue.empty()) {
      page->wake.expires_at(asio::steady_timer::time_point::max());
      co_await page->wake.async_wait(as_tuple_awaitable);
      continue;
    }
    const auto text = std::move(page->queue.front());
    page->queue.pop_front();
    page->ws.text(true);
    auto [ec, n] = co_await page->ws.async_write(asio::buffer(text), as_tuple_awaitable);
    if (ec) break;
  }
  beast::get_lowest_layer(page->ws).close();  // ends the reader too
}

// {"id", "op": "perform", "node", "method", "args"} or {"id", "op", "node"}
// for the controls; every command gets {"type": "reply", "id", "ok", ...}.
void Dashboard::Impl::command(const std::shared_ptr<Page>& page, const std::string& text) {
  boost::system::error_code ec;
  const auto value = json::parse(text, ec);
  const auto* object = ec ? nullptr : value.if_object();
  const auto* id = object ? object->if_contains("id") : nullptr;
  const auto* op = object ? object->if_contains("op") : nullptr;
  const auto* node = object ? object->if_contains("node") : nullptr;
  if (!id || !id->is_int64() || !op || !op->is_string() || !node || !node->is_string()) {
    return page->push(reply_json(0, "malformed command", "bad_command"));
  }
  const auto name = std::string(node->get_string());
  if (*op == "perform") {
    const auto* method = object->if_contains("method");
    const auto* args = object->if_contains("args");
    if (!method || !method->is_string() || !args || !args->is_array())
      return page->push(
          reply_json(id->get_int64(), "perform needs method and args", "bad_command"));
    asio::co_spawn(
        executor,
        perform(page, id->get_int64(), name, std::string(method->get_string()), args->get_array()),
        logged("dashboard perform"));
    return;
  }
  const auto problem = source.has_controls() ? source.control(std::string(op->get_string()), name)
                                             : std::string("this dashboard has no node controls");
  page->push(problem.empty() ? reply_json(id->get_int64(), json::value(nullptr))
                             : reply_json(id->get_int64(), problem, "refused"));
}

asio::awaitable<void> Dashboard::Impl::perform(std::weak_ptr<Page> page, std::int64_t id,
                                               std::string node, std::string method,
                                               json::array args) {
  auto self = shared_from_this();
  Node* target = nullptr;
  for (const auto& each : source.nodes()) {
    if (each.id == node) target = each.node;
  }
  std::string reply;
  if (!target) {
    reply = reply_json(id, "node " + node + " is not running", "not_running");
  } else {
    auto [failure, result] =
        co_await target->perform(method, std::move(args), asio::as_tuple(asio::use_awaitable));
    reply = reply_json(id, failure, result);
  }
  if (auto open = page.lock()) open->push(std::move(reply));
}

// Every 100 ms: if any node's snapshot changed, every open page gets it.
asio::awaitable<void> Dashboard::Impl::broadcast_changes() {
  auto self = shared_from_this();
  while (!stopped) {
    auto snapshot = snapshot_json(source);
    if (snapshot != last_snapshot) {
      last_snapshot = std::move(snapshot);
      pages.remove_if([](const auto& weak) { return weak.expired(); });
      for (const auto& weak : pages) {
        if (auto page = weak.lock()) page->push(last_snapshot, true);
      }
    }
    ticker.expires_after(refresh);
    co_await ticker.async_wait(as_tuple_awaitable);
  }
}

Dashboard::Dashboard(asio::any_io_executor executor, DashboardSource& source,
                     DashboardOptions options)
    : impl_(std::make_shared<Impl>(executor, source, std::move(options))) {}

Dashboard::~Dashboard() {
  stop();
}

std::string Dashboard::url() const {
  const auto endpoint = impl_->acceptor.local_endpoint();
  return (impl_->tls ? "https://" : "http://") + endpoint.address().to_string() + ":" +
         std::to_string(endpoint.port()) + "/";
}

void Dashboard::start() {
  asio::co_spawn(impl_->executor, impl_->accept_loop(), impl_->logged("dashboard listener"));
  asio::co_spawn(impl_->executor, impl_->broadcast_changes(), impl_->logged("dashboard updates"));
}

void Dashboard::stop() {
  auto& impl = *impl_;
  if (std::exchange(impl.stopped, true)) return;
  boost::system::error_code ignored;
  impl.acceptor.close(ignored);
  impl.ticker.cancel();
  for (const auto& weak : impl.pages) {
    if (auto page = weak.lock()) beast::get_lowest_layer(page->ws).close();
  }
  for (auto* stream : impl.streams) stream->close();
}

std::string Dashboard::reload_tls() {
  return transport::detail::reload_tls_context(impl_->tls, impl_->options.tls, true);
}

}  // namespace conflux::server
