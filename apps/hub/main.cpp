// conflux-hub: a WebSocket hub on its own (transport/ws_hub.hpp). Peers join
// with ws://HOST:PORT/<cluster> (wss:// with certificates); several clusters
// may share it. Exit codes: 0 after SIGINT/SIGTERM, 1 when it cannot
// listen, 2 for a bad command line.
#include <algorithm>
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
#include "version.hpp"

namespace asio = boost::asio;
using namespace conflux;

namespace {

constexpr const char* usage =
    "usage: conflux-hub --listen HOST:PORT [--static DIR] [--token-file FILE]\n"
    "                   [--tls-cert FILE --tls-key FILE --tls-ca FILE]\n"
    "                   [--log-level error|warning|info|debug]\n"
    "Relays messages between the peers of Conflux clusters over WebSocket.\n"
    "Peers connect to ws://HOST:PORT/<cluster> (conflux-node --channel ws --hub URL).\n"
    "--static DIR also serves DIR's files over HTTP (the browser peers' page).\n"
    "--token-file FILE: a peer's hello must carry the token, the file's first line\n"
    "(conflux-node --token-file; a tab's channel: {token}).\n"
    "--tls-cert, --tls-key, --tls-ca: wss:// and HTTPS only, with this certificate\n"
    "and key of the authority; SIGHUP reads them again.\n";

struct HubFlags {
  std::string listen;
  std::string files;
  std::string token;
  transport::TlsFiles tls;
  LogLevel level = LogLevel::info;
};

bool is_loopback_host(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

// Re-reads the TLS files on each SIGHUP, until the hub closes.
void reload_on_hangup(asio::signal_set& hangups, transport::WsHub& hub, const LogSink& log) {
  hangups.async_wait([&hangups, &hub, log](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (const auto problem = hub.reload_tls(); problem.empty()) {
      log(LogLevel::info, "SIGHUP: TLS files read again; new connections use them");
    } else {
      log(LogLevel::error, "SIGHUP: TLS not reloaded, the certificates in use stay: " + problem);
    }
    reload_on_hangup(hangups, hub, log);
  });
}

void warn_of_exposure(const HubFlags& flags, const std::string& host, const LogSink& log) {
  if (is_loopback_host(host)) return;
  if (flags.token.empty()) {
    log(LogLevel::warning, "INSECURE: the hub on " + flags.listen +
                               " needs no token: whoever reaches it can join a cluster under "
                               "any free id (give --token-file)");
  } else if (!flags.tls.enabled()) {
    log(LogLevel::warning, "INSECURE: the hub on " + flags.listen +
                               " is plain ws://: its token travels in clear (give --tls-cert, "
                               "--tls-key and --tls-ca)");
  }
}

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
          .token = flags.token,
          .tls = flags.tls});
  asio::co_spawn(io, hub.run(), asio::detached);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::signal_set hangups(io, SIGHUP);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log(LogLevel::info, "stopping");
    hangups.cancel();
    hub.close();
  });
  reload_on_hangup(hangups, hub, log);
  const auto host = flags.listen.substr(0, flags.listen.rfind(':'));
  log(LogLevel::info, std::string("listening on ") + (flags.tls.enabled() ? "wss://" : "ws://") +
                          host + ":" + std::to_string(hub.port()) + "/<cluster>" +
                          (flags.token.empty() ? "" : ", token required"));
  warn_of_exposure(flags, host, log);
  io.run();
  return 0;
}

LogLevel read_level(const std::string& name) {
  for (const auto each : {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug}) {
    if (name == to_string(each)) return each;
  }
  throw cli::FlagError("--log-level: \"" + name + "\" is not a level");
}

// Throws cli::FlagError naming the flag.
HubFlags read_flags(const std::vector<std::string>& args) {
  HubFlags flags;
  for (cli::FlagReader reader(args); reader.next();) {
    const auto& name = reader.name();
    if (name == "--listen") {
      flags.listen = reader.value();
    } else if (name == "--static") {
      flags.files = reader.value();
      if (!std::filesystem::is_directory(flags.files))
        throw cli::FlagError("--static: \"" + flags.files + "\" is not a directory");
    } else if (name == "--token-file") {
      flags.token = cli::read_token_file(reader.value());
    } else if (name == "--tls-cert") {
      flags.tls.certificate = reader.value();
    } else if (name == "--tls-key") {
      flags.tls.private_key = reader.value();
    } else if (name == "--tls-ca") {
      flags.tls.authority = reader.value();
    } else if (name == "--log-level") {
      flags.level = read_level(reader.value());
    } else {
      throw cli::FlagError("bad argument \"" + name + "\"");
    }
  }
  try {
    transport::split_address(flags.listen);
  } catch (const std::invalid_argument& error) {
    throw cli::FlagError(std::string("--listen: ") + error.what());
  }
  const auto& tls = flags.tls;
  const int given = !tls.certificate.empty() + !tls.private_key.empty() + !tls.authority.empty();
  if (given != 0 && given != 3)
    throw cli::FlagError("--tls-cert, --tls-key and --tls-ca go together: give all three or none");
  if (const auto problem = transport::validate_tls(tls); given == 3 && !problem.empty())
    throw cli::FlagError(problem);
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (cli::printed_version(args, "conflux-hub")) return 0;
  if (std::find(args.begin(), args.end(), "--help") != args.end() ||
      std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::cout << usage;
    return 0;
  }
  HubFlags flags;
  try {
    flags = read_flags(args);
  } catch (const cli::FlagError& error) {
    std::cerr << "conflux-hub: " << error.what() << '\n' << usage;
    return 2;
  }
  try {
    return serve(flags);
  } catch (const std::exception& error) {
    std::cerr << "conflux-hub: cannot start: " << error.what() << '\n';
    return 1;
  }
}
