// conflux-node: one replica of a Conflux cluster per process, serving the
// HTTP API (docs/operations.md). Exit codes: 0 after a clean stop, 1 when
// it cannot start (storage locked, address in use), 2 for a bad command line.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/ws_hub.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "apps.hpp"
#include "console_log.hpp"
#include "dashboard.hpp"
#include "flags.hpp"
#include "join.hpp"
#include "node_api.hpp"
#include "security.hpp"

namespace asio = boost::asio;
using namespace conflux;

namespace {

Options node_options(const daemon::Flags& flags, const LogSink& log) {
  auto app = apps::by_name(flags.app);  // flags checked the name
  Options options;
  options.id = flags.id;
  options.peers = flags.peers;
  options.join = !flags.join.empty();
  if (flags.channel == "ws") {
    options.channel =
        WebSocketChannelOptions{.hub = flags.hub, .token = flags.token, .tls = flags.tls};
  } else if (flags.channel == "redis") {
    options.channel = RedisChannelOptions{
        .url = flags.redis, .cluster = flags.cluster, .max_in_flight_bytes = flags.redis_in_flight};
  } else {
    options.channel =
        TcpChannelOptions{.listen = flags.listen, .cluster = flags.cluster, .tls = flags.tls};
  }
  app->install(options);
  options.election_timeout = {flags.election_min, flags.election_max};
  options.heartbeat_interval = flags.heartbeat;
  options.perform_timeout = flags.perform_timeout;
  if (!flags.in_memory) options.data_dir = flags.data_dir;
  options.fsync = flags.fsync;
  options.snapshot = flags.snapshot;
  options.read_lease = flags.read_lease;
  options.log = log;
  return options;
}

/// What --dashboard shows: this node (its peers appear in its status).
class ThisNode final : public server::DashboardSource {
 public:
  ThisNode(Node& node, std::string http) : node_(node), http_(std::move(http)) {}
  std::vector<server::DashboardNode> nodes() override {
    return {{node_.status().id, http_, &node_}};
  }

 private:
  Node& node_;
  std::string http_;
};

/// The hub of --ws-hub, served from this process until close().
std::unique_ptr<transport::WsHub> start_hub(asio::io_context& io, const daemon::Flags& flags,
                                            const LogSink& log) {
  if (flags.ws_hub.empty()) return nullptr;
  auto hub = std::make_unique<transport::WsHub>(
      io.get_executor(),
      transport::WsHubConfig{.listen = flags.ws_hub,
                             .log = [log](std::string_view line) { log(LogLevel::warning, line); },
                             .files = nullptr,  // a relay only
                             .token = flags.token,
                             .tls = flags.tls});
  asio::co_spawn(io, hub->run(), asio::detached);
  log(LogLevel::info, std::string("WebSocket hub on ") +
                          (flags.tls.enabled() ? "wss://" : "ws://") + flags.ws_hub + "/<cluster>");
  return hub;
}

// A leader that stops hands leadership to its most up-to-date voter first
// (thesis §3.10), so that a rolling restart costs no election timeout; then
// `done` runs, whether the transfer succeeded, failed or timed out.
void hand_over_then(Node& node, const LogSink& log, std::function<void()> done) {
  const auto status = node.status();
  std::string target;
  std::uint64_t best = 0;
  for (const auto& voter : node.members().voters) {
    for (const auto& peer : status.peers) {
      if (peer.id == voter.id && peer.connected && peer.match && *peer.match >= best) {
        target = peer.id;
        best = *peer.match;
      }
    }
  }
  if (status.role != "leader" || target.empty()) return done();
  log(LogLevel::info, "transferring leadership to " + target + " before stopping");
  node.perform(std::string(reserved::method_transfer_leadership),
               boost::json::array{boost::json::string(target)}, std::chrono::seconds(2),
               [log, done = std::move(done)](std::exception_ptr error, boost::json::value) {
                 if (error) log(LogLevel::warning, "leadership transfer did not complete");
                 done();
               });
}

// SIGINT/SIGTERM: stop the HTTP server (in-flight requests finish, watchers
// waiting in GET /log at once), hand
// leadership over if this node leads, then close the node (and the hub, if
// this process runs one); io.run() returns once all are done. A second
// signal exits at once.
void stop_on_signal(asio::signal_set& signals, asio::signal_set& hangups, server::HttpServer& http,
                    server::NodeApi& api, Node& node, transport::WsHub* hub,
                    server::Dashboard* dashboard, const LogSink& log) {
  // Everything captured outlives io.run(): it all belongs to run().
  signals.async_wait([s = &signals, hup = &hangups, h = &http, a = &api, n = &node, hub, dashboard,
                      log](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log(LogLevel::info, std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                            ": finishing requests in flight, then stopping");
    s->async_wait([log](const boost::system::error_code& again, int) {
      if (again) return;
      log(LogLevel::warning, "second signal: exiting at once");
      std::_Exit(1);
    });
    if (dashboard) dashboard->stop();
    hup->cancel();
    a->stop_waiting();
    h->stop([s, n, hub, log] {
      hand_over_then(*n, log, [s, n, hub, log] {
        n->close([s, hub, log] {
          if (hub) hub->close();
          log(LogLevel::info, "stopped");
          s->cancel();
        });
      });
    });
  });
}

int run(const daemon::Flags& flags) {
  const auto log = server::console_log(flags.log_level, flags.id);
  if (flags.in_memory) {
    log(LogLevel::warning,
        "--in-memory: this node's log and vote are lost when it stops; a restarted node must "
        "not rejoin under the same id while the cluster depends on its vote");
  }
  asio::io_context io(1);
  const auto hub = start_hub(io, flags, log);
  std::unique_ptr<Node> node;
  try {
    node = std::make_unique<Node>(io.get_executor(), node_options(flags, log));
  } catch (const std::invalid_argument& error) {
    std::cerr << "conflux-node: " << error.what() << '\n';
    return 2;
  }
  const server::HttpServer* http_server = nullptr;
  server::NodeApi api(
      *node, [&http_server] { return &http_server->counters(); },
      apps::by_name(flags.app)->queries);  // flags checked the name
  server::HttpServer http(io.get_executor(),
                          {.listen = flags.http,
                           .body_limit = flags.max_body,
                           .header_timeout = flags.http_header_timeout,
                           .request_timeout = flags.http_timeout,
                           .max_connections = flags.http_max_connections,
                           .max_connections_per_address = flags.http_max_per_address,
                           .log = log,
                           .access_log = flags.log_level == LogLevel::debug,
                           .tls = flags.tls,
                           .token = flags.token,
                           .is_public = flags.public_reads ? server::NodeApi::reads_only : nullptr,
                           .trusted_client = daemon::names_a_member(*node)},
                          std::ref(api));
  http_server = &http;
  http.start();
  ThisNode shown(*node, http.scheme() + "://" + http.address());
  std::unique_ptr<server::Dashboard> dashboard;
  if (!flags.dashboard.empty()) {
    dashboard = std::make_unique<server::Dashboard>(
        io.get_executor(), shown,
        server::DashboardOptions{
            .listen = flags.dashboard, .log = log, .token = flags.token, .tls = flags.tls});
    dashboard->start();
    log(LogLevel::info, "dashboard on " + dashboard->url() +
                            (flags.token.empty() ? "" : " (open it with ?token=<the token>)"));
  }
  if (!flags.join.empty()) {
    asio::co_spawn(io,
                   daemon::ask_to_join(flags.join, flags.id, flags.listen,
                                       {.tls = flags.tls, .token = flags.token}, log),
                   transport::log_escaped(
                       "--join", [log](std::string_view line) { log(LogLevel::warning, line); }));
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::signal_set hangups(io, SIGHUP);
  stop_on_signal(signals, hangups, http, api, *node, hub.get(), dashboard.get(), log);
  std::vector<daemon::TlsReload> reloads{[&] { return node->reload_tls(); },
                                         [&] { return http.reload_tls(); }};
  if (hub) reloads.emplace_back([&] { return hub->reload_tls(); });
  if (dashboard) reloads.emplace_back([&] { return dashboard->reload_tls(); });
  daemon::reload_on_hangup(hangups, flags, std::move(reloads), log);
  daemon::warn_of_exposure(flags, log);
  const auto peers = flags.channel == "ws" ? "peers through " + flags.hub
                     : flags.channel == "redis"
                         ? "peers through Redis pub/sub (cluster " + flags.cluster + ")"
                         : "peers on " + flags.listen;
  log(LogLevel::info, peers + (flags.tls.enabled() && flags.channel == "tcp" ? " (TLS)" : "") +
                          ", HTTP API on " + http.scheme() + "://" + http.address() + ", app " +
                          flags.app + ", " +
                          (flags.in_memory ? "in memory" : "data in " + flags.data_dir.string()));
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  daemon::Flags flags;
  try {
    flags = daemon::parse_flags(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const daemon::FlagError& error) {
    std::cerr << "conflux-node: " << error.what() << "\nTry 'conflux-node --help'.\n";
    return 2;
  }
  if (flags.help) {
    std::cout << daemon::usage();
    return 0;
  }
  if (flags.version) {
    std::cout << "conflux-node " << conflux::version << '\n';
    return 0;
  }
  try {
    return run(flags);
  } catch (const std::exception& error) {  // storage locked or corrupt, address in use
    std::cerr << "conflux-node: cannot start: " << error.what() << '\n';
    return 1;
  }
}
