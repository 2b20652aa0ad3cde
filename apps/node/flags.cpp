#include "flags.hpp"

#include <charconv>
#include <conflux/transport/address.hpp>
#include <conflux/transport/redis_url.hpp>
#include <conflux/transport/tls.hpp>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "apps.hpp"
#include "token_file.hpp"

namespace conflux::daemon {
namespace {

std::uint64_t parse_number(const std::string& flag, const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw FlagError(flag + ": \"" + text + "\" is not a whole number");
  }
  return value;
}

std::chrono::milliseconds parse_ms(const std::string& flag, const std::string& text) {
  const auto value = parse_number(flag, text);
  if (value == 0 || value > 3'600'000)
    throw FlagError(flag + ": " + text + " ms is out of range (1 to 3600000)");
  return std::chrono::milliseconds(value);
}

void check_address(const std::string& flag, const std::string& address) {
  try {
    const auto [host, port] = transport::split_address(address);
    if (parse_number(flag, port) > 65535) throw FlagError("");
  } catch (const std::exception&) {
    throw FlagError(flag + ": \"" + address + "\" is not host:port");
  }
}

/// "id=host:port" (tcp), or "id" (ws: the hub knows where everybody is).
Peer parse_peer(const std::string& text, bool needs_address) {
  const auto equals = text.find('=');
  if (!needs_address && equals == std::string::npos && !text.empty()) return Peer{text, ""};
  if (equals == std::string::npos || equals == 0)
    throw FlagError("--peer: \"" + text + "\" is not id=host:port");
  Peer peer{text.substr(0, equals), text.substr(equals + 1)};
  if (needs_address) check_address("--peer " + peer.id, peer.address);
  return peer;
}

void parse_election(Flags& flags, const std::string& text) {
  const auto dash = text.find('-');
  if (dash == std::string::npos)
    throw FlagError("--election-timeout: \"" + text + "\" is not MIN-MAX in ms (e.g. 300-500)");
  flags.election_min = parse_ms("--election-timeout", text.substr(0, dash));
  flags.election_max = parse_ms("--election-timeout", text.substr(dash + 1));
  if (flags.election_max < flags.election_min)
    throw FlagError("--election-timeout: MAX must not be below MIN in \"" + text + "\"");
}

LogLevel parse_level(const std::string& text) {
  for (const auto level : {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug}) {
    if (text == to_string(level)) return level;
  }
  throw FlagError("--log-level: \"" + text + "\" is not one of error, warning, info, debug");
}

using Setter = std::function<void(Flags&, const std::string&)>;

// Setters for the common kinds of value, each checked and named in errors.
Setter text(std::string Flags::*field) {
  return [field](Flags& f, const std::string& v) { f.*field = v; };
}
/// A host:port; with no host ("7001" or ":7001"), loopback: a node
/// listens beyond this machine only when told to.
Setter address(const char* flag, std::string Flags::*field) {
  return [flag, field](Flags& f, const std::string& v) {
    const bool port_only = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
    const auto full = port_only ? "127.0.0.1:" + v : v.starts_with(':') ? "127.0.0.1" + v : v;
    check_address(flag, full);
    f.*field = full;
  };
}
Setter path(std::string transport::TlsFiles::*field) {
  return [field](Flags& f, const std::string& v) { f.tls.*field = v; };
}
Setter milliseconds(const char* flag, std::chrono::milliseconds Flags::*field) {
  return [flag, field](Flags& f, const std::string& v) { f.*field = parse_ms(flag, v); };
}
Setter positive(const char* flag, std::size_t Flags::*field) {
  return [flag, field](Flags& f, const std::string& v) {
    f.*field = parse_number(flag, v);
    if (f.*field == 0) throw FlagError(std::string(flag) + ": must be positive");
  };
}

Setter count(const char* flag, std::uint64_t Options::SnapshotPolicy::*field) {
  return
      [flag, field](Flags& f, const std::string& v) { f.snapshot.*field = parse_number(flag, v); };
}

void parse_channel(Flags& f, const std::string& v) {
  if (v != "tcp" && v != "ws" && v != "redis")
    throw FlagError("--channel: \"" + v + "\" is not tcp, ws or redis");
  f.channel = v;
}

void parse_redis(Flags& f, const std::string& v) {
  try {
    transport::parse_redis_url(v);
  } catch (const std::invalid_argument& error) {
    throw FlagError(std::string("--redis: ") + error.what());
  }
  f.redis = v;
}

void parse_hub(Flags& f, const std::string& v) {
  try {
    transport::parse_hub_url(v);
  } catch (const std::invalid_argument& error) {
    throw FlagError(std::string("--hub: ") + error.what());
  }
  f.hub = v;
}

void parse_drift(Flags& f, const std::string& v) {
  double drift = -1;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), drift);
  if (ec != std::errc{} || end != v.data() + v.size() || !(drift >= 0 && drift < 0.5))
    throw FlagError("--max-clock-drift: \"" + v + "\" is not a fraction in [0, 0.5)");
  f.read_lease.max_clock_drift = drift;
}

void parse_fsync(Flags& f, const std::string& v) {
  if (v != "always" && v != "never")
    throw FlagError("--fsync: \"" + v + "\" is not always or never");
  f.fsync = v == "always" ? storage::FsyncPolicy::always : storage::FsyncPolicy::never;
}

/// Flags without a value.
const std::map<std::string, bool Flags::*>& switches() {
  static const std::map<std::string, bool Flags::*> table{{"--in-memory", &Flags::in_memory},
                                                          {"--public-reads", &Flags::public_reads},
                                                          {"--insecure", &Flags::insecure}};
  return table;
}

const std::map<std::string, Setter>& valued_flags() {
  static const std::map<std::string, Setter> table{
      {"--id", text(&Flags::id)},
      {"--listen", address("--listen", &Flags::listen)},
      {"--http", address("--http", &Flags::http)},
      {"--peer",
       [](Flags& f, const std::string& v) {
         f.peers.push_back({v, ""});
       }},
      {"--channel", parse_channel},
      {"--hub", parse_hub},
      {"--redis", parse_redis},
      {"--redis-in-flight", positive("--redis-in-flight", &Flags::redis_in_flight)},
      {"--dashboard", address("--dashboard", &Flags::dashboard)},
      {"--ws-hub", address("--ws-hub", &Flags::ws_hub)},
      {"--cluster", text(&Flags::cluster)},
      {"--join", address("--join", &Flags::join)},
      {"--app", text(&Flags::app)},
      {"--data-dir", [](Flags& f, const std::string& v) { f.data_dir = v; }},
      {"--fsync", parse_fsync},
      {"--election-timeout", parse_election},
      {"--heartbeat", milliseconds("--heartbeat", &Flags::heartbeat)},
      {"--max-clock-drift", parse_drift},
      {"--perform-timeout", milliseconds("--perform-timeout", &Flags::perform_timeout)},
      {"--http-timeout", milliseconds("--http-timeout", &Flags::http_timeout)},
      {"--http-header-timeout", milliseconds("--http-header-timeout", &Flags::http_header_timeout)},
      {"--http-max-connections", positive("--http-max-connections", &Flags::http_max_connections)},
      {"--http-max-per-address", positive("--http-max-per-address", &Flags::http_max_per_address)},
      {"--max-body", positive("--max-body", &Flags::max_body)},
      {"--snapshot-entries", count("--snapshot-entries", &Options::SnapshotPolicy::entries)},
      {"--snapshot-bytes", count("--snapshot-bytes", &Options::SnapshotPolicy::bytes)},
      {"--snapshot-trailing",
       count("--snapshot-trailing", &Options::SnapshotPolicy::trailing_entries)},
      {"--log-level", [](Flags& f, const std::string& v) { f.log_level = parse_level(v); }},
      {"--tls-cert", path(&transport::TlsFiles::certificate)},
      {"--tls-key", path(&transport::TlsFiles::private_key)},
      {"--tls-ca", path(&transport::TlsFiles::authority)},
      {"--token-file", [](Flags& f, const std::string& v) { f.token_file = v; }},
  };
  return table;
}

/// Peers were kept raw: their form depends on --channel, which may come later.
void resolve_peers(Flags& flags) {
  const bool tcp = flags.channel == "tcp";
  std::set<std::string> ids;
  for (auto& peer : flags.peers) {
    peer = parse_peer(peer.id, tcp);
    if (!ids.insert(peer.id).second) throw FlagError("--peer: \"" + peer.id + "\" is given twice");
  }
  if (!ids.count(flags.id)) flags.peers.push_back({flags.id, tcp ? flags.listen : ""});
}

/// The TLS files come as a set; the token file holds one line, the token.
void check_security(Flags& flags) {
  const auto& tls = flags.tls;
  const int given = !tls.certificate.empty() + !tls.private_key.empty() + !tls.authority.empty();
  if (given != 0 && given != 3)
    throw FlagError("--tls-cert, --tls-key and --tls-ca go together: give all three or none");
  if (const auto problem = transport::validate_tls(tls, flags.id); given == 3 && !problem.empty())
    throw FlagError(problem);
  if (flags.public_reads && flags.token_file.empty())
    throw FlagError("--public-reads needs --token-file (without a token every request is served)");
  if (!flags.token_file.empty()) flags.token = cli::read_token_file(flags.token_file);
}

void check_complete(Flags& flags) {
  if (flags.id.empty()) throw FlagError("--id is required");
  if (flags.channel == "tcp" && flags.listen.empty())
    throw FlagError("--listen is required (or --channel ws)");
  if (flags.channel == "ws" && flags.hub.empty()) throw FlagError("--channel ws needs --hub");
  if (flags.channel == "redis" && flags.redis.empty())
    throw FlagError("--channel redis needs --redis");
  if (flags.channel == "redis" &&
      (flags.cluster.find(':') != std::string::npos || flags.id.find(':') != std::string::npos))
    throw FlagError("--channel redis: --id and --cluster must not contain ':'");
  if (flags.http.empty()) throw FlagError("--http is required");
  if (!apps::by_name(flags.app)) {
    throw FlagError("--app: \"" + flags.app + "\" is not one of " + apps::names());
  }
  if (flags.heartbeat >= flags.election_min)
    throw FlagError("--heartbeat must be below the election timeout's MIN");
  resolve_peers(flags);
  if (flags.in_memory && !flags.data_dir.empty())
    throw FlagError("--in-memory and --data-dir exclude each other");
  if (flags.data_dir.empty()) flags.data_dir = "./" + flags.id + ".conflux";
  if (flags.snapshot.trailing_entries > 1'000'000)
    throw FlagError("--snapshot-trailing: must be at most 1000000");
  check_security(flags);
}

}  // namespace

Flags parse_flags(const std::vector<std::string>& args) {
  Flags flags;
  for (cli::FlagReader reader(args); reader.next();) {
    const auto& name = reader.name();
    if (name == "--help" || name == "-h" || name == "--version") {
      Flags asked;
      asked.help = name != "--version";
      asked.version = !asked.help;
      return asked;
    }
    if (name == "--read-lease") {
      reader.no_value();
      flags.read_lease.enabled = true;
      continue;
    }
    if (const auto switched = switches().find(name); switched != switches().end()) {
      reader.no_value();
      flags.*(switched->second) = true;
      continue;
    }
    const auto setter = valued_flags().find(name);
    if (setter == valued_flags().end()) throw FlagError("unknown flag \"" + name + "\"");
    setter->second(flags, reader.value());
  }
  check_complete(flags);
  return flags;
}

std::string usage() {
  return R"(usage: conflux-node --id ID --listen HOST:PORT --http HOST:PORT [--peer ID=HOST:PORT]... [options]

Runs one replica of a Conflux cluster, serving its HTTP API.

  --id ID                  this node's id (must match its --peer entry, if listed)
  --channel tcp|ws|redis   peer traffic over the TCP mesh (default), a WebSocket hub
                           or Redis pub/sub
  --listen HOST:PORT       where peers connect (tcp)
  --hub ws://HOST:PORT/CLUSTER  the hub to join (ws); --peer then takes ids alone
  --redis redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]  the Redis whose pub/sub joins
                           the nodes (redis); --peer then takes ids alone, and
                           --cluster keeps clusters on one Redis apart
  --redis-in-flight BYTES  Raft messages in flight to one follower over Redis, at
                           most (default 4194304); keep it below Redis's pubsub
                           client-output-buffer-limit
  --ws-hub HOST:PORT       also run a WebSocket hub in this process
  --dashboard HOST:PORT    serve the live dashboard of this node there
  --http HOST:PORT         the HTTP API (port 0 picks one; the address is logged)
  --peer ID=HOST:PORT      a member of the cluster (repeat for each; this node is
                           added with its --listen address when not listed)
  --cluster NAME           cluster id, must match on every node (default conflux)
  --join HOST:PORT         start with no membership and ask the member whose HTTP API
                           is there to add this node (as a voter, once caught up);
                           --listen must be an address the members can reach
  --app NAME               the built-in app: kv (default), counter, list, tictactoe,
                           or bench-noop / bench-counter / bench-map / bench-map-copy
                           (for conflux-bench)
  --data-dir DIR           durable storage (default ./ID.conflux)
  --in-memory              keep the log in memory only: a restart loses this node's
                           log and vote (unsafe outside tests and demos)
  --fsync always|never     fsync before acknowledging (default always)
  --election-timeout MIN-MAX  in ms (default 300-500)
  --heartbeat MS           leader heartbeat interval (default 50)
  --read-lease             serve linearizable reads on a leader from a lease
                           (thesis 6.4.1) instead of a heartbeat round each:
                           assumes clocks drift apart by at most
  --max-clock-drift F      this fraction (default 0.1); give both to every node
  --perform-timeout MS     how long POST /perform waits (default 5000)
  --http-timeout MS        a request must arrive whole within this; idle
                           connections close after it (default 10000)
  --http-header-timeout MS a new connection's request line and headers must
                           arrive within this (default 2000)
  --http-max-connections N open HTTP connections at most (default 1024)
  --http-max-per-address N open HTTP connections from one client address at most
                           (default 256)
  --max-body BYTES         largest request body (default 1048576)
  --snapshot-entries N     snapshot the state and compact the log once N entries
                           were applied since the last snapshot (default 100000;
                           0: not by count)
  --snapshot-bytes BYTES   ... or once their actions hold BYTES (default 67108864;
                           0: not by size). POST /admin/snapshot takes one now
  --snapshot-trailing N    entries kept before a snapshot for slow followers
                           (default 1024, at most 1000000)
  --log-level LEVEL        error, warning, info (default) or debug

Security (docs/operations.md, "Security"). An address without a host (7001 or
:7001) is on 127.0.0.1: this node listens beyond this machine only when told.
  --tls-cert FILE          this node's certificate (PEM), signed by --tls-ca and
                           naming its id; with --tls-key and --tls-ca: TLS with
                           mutual authentication between peers (tcp), and HTTPS
  --tls-key FILE           its key (PEM)
  --tls-ca FILE            the cluster's authority (PEM)
  --token-file FILE        the HTTP API needs "Authorization: Bearer <token>",
                           the token being this file's first line (or a client
                           certificate of --tls-ca, over HTTPS)
  --public-reads           with --token-file: GET requests and queries need no token
  --insecure               plaintext on a non-loopback address, knowingly: no
                           warning at start
  SIGHUP reloads the TLS files: new connections use them.
  --help, --version
)";
}

}  // namespace conflux::daemon
