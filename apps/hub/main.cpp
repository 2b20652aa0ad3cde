// conflux-hub: a WebSocket hub on its own (transport/ws_hub.hpp). Peers join
// with ws://HOST:PORT/<cluster>; several clusters may share it. Exit codes:
// 0 after SIGINT/SIGTERM, 1 when it cannot listen, 2 for a bad command line.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/ws_hub.hpp>
#include <filesystem>
#include <iostream>

#include "console_log.hpp"
#include "static_files.hpp"
#include "token_file.hpp"

namespace asio = boost::asio;
using namespace conflux;

namespace {

constexpr const char* usage =
    "usage: conflux-hub --listen HOST:PORT [--static DIR] [--token-file FILE]\n"
    "                   [--log-level error|warning|info|debug]\n"
    "Relays messages between the peers of Conflux clusters over WebSocket.\n"
    "Peers connect to ws://HOST:PORT/<cluster> (conflux-node --channel ws --hub URL).\n"
    "--static DIR also serves DIR's files over plain HTTP (the browser peers' page).\n"
    "--token-file FILE: a peer's hello must carry the token, the file's first line\n"
    "(conflux-node --token-file; a tab's channel: {token}).\n";

struct HubFlags {
  std::string listen;
  std::string files;
  std::string token;
  LogLevel level = LogLevel::info;
};

int serve(const HubFlags& flags) {
  const auto log = server::console_log(flags.level, "hub");
  asio::io_context io(1);
  const auto files = flags.files;
  transport::WsHub hub(
      io.get_executor(),
      transport::WsHubConfig{
          .listen = flags.listen,
          .log = [log](std::string_view line) { log(LogLevel::warning, line); },
          .files = files.empty() ? nullptr : std::function([files](std::string_view path) {
            return hub::read_static(files, path);
          }),
          .token = flags.token});
  asio::co_spawn(io, hub.run(), asio::detached);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log(LogLevel::info, "stopping");
    hub.close();
  });
  const auto host = flags.listen.substr(0, flags.listen.rfind(':'));
  log(LogLevel::info, "listening on ws://" + host + ":" + std::to_string(hub.port()) +
                          "/<cluster>" + (flags.token.empty() ? "" : ", token required"));
  if (flags.token.empty() && host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
    log(LogLevel::warning, "INSECURE: the hub on " + flags.listen +
                               " needs no token: whoever reaches it can join a cluster under "
                               "any free id (give --token-file)");
  }
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  HubFlags flags;
  auto& listen = flags.listen;
  auto& files = flags.files;
  auto& level = flags.level;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else if (arg == "--listen" && has_value) {
      listen = argv[++i];
    } else if (arg == "--static" && has_value) {
      files = argv[++i];
      if (!std::filesystem::is_directory(files)) {
        std::cerr << "conflux-hub: --static: \"" << files << "\" is not a directory\n" << usage;
        return 2;
      }
    } else if (arg == "--token-file" && has_value) {
      try {
        flags.token = cli::read_token_file(argv[++i]);
      } catch (const cli::FlagError& error) {
        std::cerr << "conflux-hub: " << error.what() << '\n' << usage;
        return 2;
      }
    } else if (arg == "--log-level" && has_value) {
      const std::string name = argv[++i];
      bool known = false;
      for (const auto each :
           {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug}) {
        if (name == to_string(each)) level = each, known = true;
      }
      if (!known) {
        std::cerr << "conflux-hub: --log-level: \"" << name << "\" is not a level\n" << usage;
        return 2;
      }
    } else {
      std::cerr << "conflux-hub: bad argument \"" << arg << "\"\n" << usage;
      return 2;
    }
  }
  try {
    transport::split_address(listen);
  } catch (const std::invalid_argument& error) {
    std::cerr << "conflux-hub: --listen: " << error.what() << '\n' << usage;
    return 2;
  }
  try {
    return serve(flags);
  } catch (const std::exception& error) {
    std::cerr << "conflux-hub: cannot start: " << error.what() << '\n';
    return 1;
  }
}
