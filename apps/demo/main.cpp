// conflux-demo: five kv nodes in one process on the TCP mesh over loopback,
// each with its HTTP API. Shows a live status table until Ctrl-C, or, with
// --scenario failover, runs the scripted failover tour and exits 0 when it
// passes. In live mode it also serves the tic-tac-toe page, whose tabs are
// Raft peers of their own clusters, from a hub (when emscripten built them).
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <conflux/transport/ws_hub.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "console_log.hpp"
#include "dashboard.hpp"
#include "demo_cluster.hpp"
#include "failover.hpp"
#include "static_files.hpp"
#include "status_table.hpp"
#include "version.hpp"

namespace asio = boost::asio;
using namespace conflux;

namespace {

constexpr const char* usage =
    "usage: conflux-demo [--scenario failover] [--nodes N] [--data-dir DIR] [--dashboard H:P]\n"
    "  (no scenario)         live status table, refreshed every second, until Ctrl-C\n"
    "  --scenario failover   scripted tour: perform, kill the leader, re-elect,\n"
    "                        perform, restart, catch up, compare states; exit 0 if right\n"
    "  --nodes N             cluster size, 1 to 9 (default 5)\n"
    "  --data-dir DIR        keep the nodes' data there (default: a temporary directory,\n"
    "                        removed at exit)\n"
    "  --dashboard HOST:PORT serve the live dashboard there (default 127.0.0.1:8080, or\n"
    "                        any free port if taken; with --scenario: only if given)\n";

struct DemoFlags {
  bool failover = false;
  std::size_t nodes = 5;
  std::filesystem::path data_dir;
  std::string dashboard;
};

/// Returns nullopt after printing an error (exit 2) or the usage (exit 0).
std::optional<DemoFlags> parse(int argc, char** argv, int& exit_code) {
  DemoFlags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      exit_code = 0;
      return std::nullopt;
    } else if (arg == "--scenario" && has_value && std::string(argv[i + 1]) == "failover") {
      flags.failover = true;
      ++i;
    } else if (arg == "--nodes" && has_value && std::atoi(argv[i + 1]) >= 1 &&
               std::atoi(argv[i + 1]) <= 9) {
      flags.nodes = static_cast<std::size_t>(std::atoi(argv[++i]));
    } else if (arg == "--data-dir" && has_value) {
      flags.data_dir = argv[++i];
    } else if (arg == "--dashboard" && has_value) {
      flags.dashboard = argv[++i];
    } else {
      std::cerr << "conflux-demo: bad argument \"" << arg << "\"\n" << usage;
      exit_code = 2;
      return std::nullopt;
    }
  }
  return flags;
}

// Redraws the table every second; on a terminal, in place.
void refresh(asio::steady_timer& timer, demo::DemoCluster& cluster, const std::string& header) {
  const bool tty = isatty(STDOUT_FILENO) != 0;
  std::cout << (tty ? "\x1b[H\x1b[2J" : "") << header << demo::status_table(cluster) << '\n'
            << std::flush;
  timer.expires_after(std::chrono::seconds(1));
  timer.async_wait([&timer, &cluster, header](boost::system::error_code ec) {
    if (!ec) refresh(timer, cluster, header);
  });
}

/// The dashboard at `listen`; in live mode without --dashboard, 8080 or,
/// when that is taken, any free port.
std::unique_ptr<server::Dashboard> start_dashboard(asio::io_context& io, demo::DemoCluster& cluster,
                                                   const DemoFlags& flags, const LogSink& log) {
  if (flags.dashboard.empty() && flags.failover) return nullptr;
  const auto make = [&](const std::string& listen) {
    return std::make_unique<server::Dashboard>(io.get_executor(), cluster,
                                               server::DashboardOptions{listen, log});
  };
  std::unique_ptr<server::Dashboard> dashboard;
  try {
    dashboard = make(flags.dashboard.empty() ? "127.0.0.1:8080" : flags.dashboard);
  } catch (const std::system_error&) {
    if (!flags.dashboard.empty()) throw;
    dashboard = make("127.0.0.1:0");
  }
  dashboard->start();
  std::cout << "dashboard: " << dashboard->url() << std::endl;
  return dashboard;
}

/// A hub that serves the browser peers' pages (tic-tac-toe) and relays their
/// messages; none when the browser module was not built (no emscripten).
std::unique_ptr<transport::WsHub> start_game_hub(asio::io_context& io, const LogSink& log) {
  const std::filesystem::path files = CONFLUX_BROWSER_DIR;
  if (!std::filesystem::exists(files / "tictactoe.html")) return nullptr;
  auto hub = std::make_unique<transport::WsHub>(
      io.get_executor(),
      transport::WsHubConfig{
          .listen = "127.0.0.1:0",
          .log = [log](std::string_view line) { log(LogLevel::warning, line); },
          .files = [files](std::string_view path) { return hub::read_static(files, path); }});
  asio::co_spawn(io, hub->run(), asio::detached);
  return hub;
}

std::string live_header(demo::DemoCluster& cluster, const server::Dashboard& dashboard,
                        const transport::WsHub* game) {
  const auto game_line = game ? "\nTic-tac-toe, each tab a Raft peer: http://127.0.0.1:" +
                                    std::to_string(game->port()) +
                                    "/tictactoe.html (open the link it shows in a second tab)"
                              : std::string();
  std::string header = "Conflux demo: " + std::to_string(cluster.size()) +
                       " kv nodes on loopback.\nDashboard: " + dashboard.url() + game_line +
                       "\nTry:\n  curl -XPOST " + cluster.http_url(0) +
                       "/perform/put -d '[\"greeting\", \"hello\"]'\n  curl " +
                       cluster.http_url(cluster.size() - 1) + "/state\n" + "Ctrl-C to stop.\n\n";
  return header;
}

int run(const DemoFlags& flags, const std::filesystem::path& data_dir) {
  asio::io_context io(1);
  const auto log = server::console_log(LogLevel::warning, "demo");
  demo::DemoCluster cluster(io.get_executor(),
                            {.nodes = flags.nodes, .data_dir = data_dir, .log = log});
  const auto dashboard = start_dashboard(io, cluster, flags, log);
  const auto game = flags.failover ? nullptr : start_game_hub(io, log);
  int status = 0;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer timer(io);
  bool stopping = false;
  const auto stop = [&] {
    if (std::exchange(stopping, true)) return;
    if (dashboard) dashboard->stop();
    if (game) game->close();
    signals.cancel();
    timer.cancel();
    cluster.stop([] {});
  };
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    std::cout << "\nstopping\n";
    status = flags.failover ? 1 : 0;
    stop();
  });
  if (flags.failover) {
    asio::co_spawn(io, demo::run_failover(cluster, std::cout),
                   [&](std::exception_ptr error, bool passed) {
                     try {
                       if (error) std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       std::cout << "failover scenario FAILED: " << e.what() << '\n';
                     }
                     status = !error && passed ? 0 : 1;
                     stop();
                   });
  } else {
    refresh(timer, cluster, live_header(cluster, *dashboard, game.get()));
  }
  io.run();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (conflux::cli::printed_version({argv + 1, argv + argc}, "conflux-demo")) return 0;
  int exit_code = 0;
  const auto flags = parse(argc, argv, exit_code);
  if (!flags) return exit_code;
  const bool temporary = flags->data_dir.empty();
  const auto data_dir = temporary ? std::filesystem::temp_directory_path() /
                                        ("conflux-demo-" + std::to_string(getpid()))
                                  : flags->data_dir;
  try {
    exit_code = run(*flags, data_dir);
  } catch (const std::exception& error) {
    std::cerr << "conflux-demo: " << error.what() << '\n';
    exit_code = 1;
  }
  if (temporary) std::filesystem::remove_all(data_dir);
  return exit_code;
}
