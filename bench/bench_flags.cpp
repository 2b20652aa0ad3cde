#include "bench_flags.hpp"

#include <charconv>
#include <cmath>
#include <functional>
#include <map>

namespace conflux::bench {

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::inprocess:
      return "inprocess";
    case Mode::tcp:
      return "tcp";
    case Mode::websocket:
      return "websocket";
    case Mode::redis:
      return "redis";
    case Mode::embedded:
      return "embedded";
  }
  return "?";
}

std::string_view to_string(Storage storage) {
  return storage == Storage::memory ? "memory" : "file";
}

std::string_view to_string(Reducer reducer) {
  switch (reducer) {
    case Reducer::noop:
      return "noop";
    case Reducer::counter:
      return "counter";
    case Reducer::map:
      return "map";
    case Reducer::map_copy:
      return "map-copy";
  }
  return "?";
}

std::string_view to_string(Target target) {
  return target == Target::leader ? "leader" : "all";
}

std::string_view to_string(Op op) {
  return op == Op::write ? "write" : "read";
}

namespace {

std::uint64_t whole_number(const std::string& flag, const std::string& text, std::uint64_t min,
                           std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    throw FlagError(flag + ": \"" + text + "\" is not a whole number");
  if (value < min || value > max) {
    throw FlagError(flag + ": " + text + " is out of range (" + std::to_string(min) + " to " +
                    std::to_string(max) + ")");
  }
  return value;
}

double seconds(const std::string& flag, const std::string& text, bool zero_allowed) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      !std::isfinite(value))
    throw FlagError(flag + ": \"" + text + "\" is not a number of seconds");
  if (value < 0 || (value == 0 && !zero_allowed) || value > 86400)
    throw FlagError(flag + ": " + text + " s is out of range");
  return value;
}

/// Picks the enumerator whose to_string() is `text`.
template <class Enum>
Enum one_of(const std::string& flag, const std::string& text, std::initializer_list<Enum> options) {
  std::string names;
  for (const auto option : options) {
    if (text == to_string(option)) return option;
    names += (names.empty() ? "" : ", ") + std::string(to_string(option));
  }
  throw FlagError(flag + ": \"" + text + "\" is not one of " + names);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  for (std::size_t start = 0; start <= text.size();) {
    const auto comma = std::min(text.find(',', start), text.size());
    if (comma > start) items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

using Setter = std::function<void(BenchFlags&, const std::string&)>;

const std::map<std::string, Setter>& valued_flags() {
  using F = BenchFlags;
  using S = const std::string&;
  static const std::map<std::string, Setter> table{
      {"--mode",
       [](F& f, S v) {
         f.mode =
             one_of("--mode", v,
                    {Mode::inprocess, Mode::tcp, Mode::websocket, Mode::redis, Mode::embedded});
       }},
      {"--nodes", [](F& f, S v) { f.nodes = static_cast<int>(whole_number("--nodes", v, 1, 7)); }},
      {"--concurrency",
       [](F& f, S v) {
         f.concurrency = static_cast<int>(whole_number("--concurrency", v, 1, 1024));
       }},
      {"--payload", [](F& f, S v) { f.payload = whole_number("--payload", v, 16, 65536); }},
      {"--duration", [](F& f, S v) { f.duration = seconds("--duration", v, false); }},
      {"--count", [](F& f, S v) { f.count = whole_number("--count", v, 1, 1'000'000'000'000); }},
      {"--warmup", [](F& f, S v) { f.warmup = seconds("--warmup", v, true); }},
      {"--storage",
       [](F& f, S v) {
         f.storage = one_of("--storage", v, {Storage::memory, Storage::file});
       }},
      {"--fsync",
       [](F& f, S v) {
         if (v != "always" && v != "never")
           throw FlagError("--fsync: \"" + v + "\" is not always or never");
         f.fsync = v == "always";
       }},
      {"--reducer",
       [](F& f, S v) {
         f.reducer = one_of("--reducer", v,
                            {Reducer::noop, Reducer::counter, Reducer::map, Reducer::map_copy});
       }},
      {"--target",
       [](F& f, S v) {
         f.target = one_of("--target", v, {Target::leader, Target::all});
       }},
      {"--op",
       [](F& f, S v) {
         f.op = one_of("--op", v, {Op::write, Op::read});
       }},
      {"--node-binary", [](F& f, S v) { f.node_binary = v; }},
      {"--hub-binary", [](F& f, S v) { f.hub_binary = v; }},
      {"--redis-binary", [](F& f, S v) { f.redis_binary = v; }},
      {"--connect", [](F& f, S v) { f.connect = split_list(v); }},
      {"--json", [](F& f, S v) { f.json_file = v, f.json_append = false; }},
      {"--json-append", [](F& f, S v) { f.json_file = v, f.json_append = true; }},
      {"--label", [](F& f, S v) { f.label = v; }},
      {"--tls", [](F& f, S v) { f.tls_dir = v; }},
      {"--snapshot-entries",
       [](F& f, S v) {
         f.snapshot_entries = whole_number("--snapshot-entries", v, 0, 1'000'000'000'000);
       }},
      {"--pings", [](F& f, S v) { f.pings = whole_number("--pings", v, 10, 1'000'000); }},
  };
  return table;
}

/// Rules between flags, checked once all are known.
void check_combination(BenchFlags& flags, bool nodes_given, bool fsync_given) {
  if (flags.duration && flags.count) throw FlagError("--duration and --count exclude each other");
  if (!flags.duration && !flags.count) flags.duration = 5;
  if (flags.nodes % 2 == 0) throw FlagError("--nodes: use 1, 3, 5 or 7 (an odd cluster size)");
  if (fsync_given && flags.storage != Storage::file)
    throw FlagError("--fsync applies to --storage file only");
  const bool spawns = flags.connect.empty() && flags.mode != Mode::inprocess;
  if ((!flags.node_binary.empty() || !flags.hub_binary.empty()) && !spawns)
    throw FlagError(
        "--node-binary and --hub-binary apply when the bench starts node processes (tcp, "
        "websocket, redis, embedded)");
  if (!flags.hub_binary.empty() && flags.mode != Mode::websocket)
    throw FlagError("--hub-binary applies to --mode websocket only");
  if (!flags.redis_binary.empty() && flags.mode != Mode::redis)
    throw FlagError("--redis-binary applies to --mode redis only");
  if (!flags.tls_dir.empty() && flags.mode != Mode::embedded)
    throw FlagError("--tls applies to --mode embedded only (TLS on the peer mesh)");
  if (flags.op == Op::read && flags.mode != Mode::inprocess && flags.mode != Mode::embedded)
    throw FlagError("--op read: with --mode inprocess or embedded only (the clients call the API)");
  if (flags.mode == Mode::embedded && flags.target == Target::all)
    throw FlagError("--target all: with --mode embedded the clients perform on n1, the leader");
  if (flags.connect.empty()) return;
  if (flags.mode != Mode::tcp) throw FlagError("--connect needs --mode tcp");
  if (flags.storage != Storage::memory || flags.reducer != Reducer::noop) {
    throw FlagError(
        "--storage and --reducer are chosen when the nodes are started, not with --connect");
  }
  if (nodes_given && static_cast<std::size_t>(flags.nodes) != flags.connect.size())
    throw FlagError("--nodes disagrees with the number of --connect addresses");
  for (const auto& address : flags.connect) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw FlagError("--connect: \"" + address + "\" is not host:port");
    whole_number("--connect " + address, address.substr(colon + 1), 1, 65535);
  }
  flags.nodes = static_cast<int>(flags.connect.size());
}

}  // namespace

BenchFlags parse_bench_flags(const std::vector<std::string>& args) {
  BenchFlags flags;
  bool nodes_given = false;
  bool fsync_given = false;
  for (cli::FlagReader reader(args); reader.next();) {
    const auto& name = reader.name();
    if (name == "--help" || name == "-h") {
      flags.help = true;
      return flags;
    }
    if (name == "--progress" || name == "--no-progress") {
      reader.no_value();
      flags.progress = name == "--progress";
      continue;
    }
    if (name == "--read-lease") {
      reader.no_value();
      flags.read_lease = true;
      continue;
    }
    const auto setter = valued_flags().find(name);
    if (setter == valued_flags().end()) throw FlagError("unknown flag \"" + name + "\"");
    setter->second(flags, reader.value());
    nodes_given = nodes_given || name == "--nodes";
    fsync_given = fsync_given || name == "--fsync";
  }
  check_combination(flags, nodes_given, fsync_given);
  return flags;
}

std::string bench_usage() {
  return R"(usage: conflux-bench [--mode inprocess|tcp|websocket|redis|embedded] [options]

Measures a Conflux cluster under a closed-loop load: each client keeps exactly
one `write(payload)` perform in flight and sends the next when it completes.

  --mode MODE          inprocess (default): N nodes and the clients in this process,
                       on the in-process channel, one thread;
                       tcp: N conflux-node processes on loopback, driven over HTTP;
                       websocket: as tcp, the nodes talking through a conflux-hub;
                       redis: as tcp, the nodes talking through Redis pub/sub (a
                       redis-server the bench starts, without persistence);
                       embedded: the leader n1 and the clients in this process (as an
                       application embedding Conflux), the other nodes conflux-node
                       processes on the TCP mesh (NuRaft's raft_bench measures so)
  --nodes N            cluster size: 1, 3 (default), 5 or 7
  --concurrency C      clients (HTTP connections), 1..1024 (default 16)
  --payload BYTES      characters in each action's payload string, 16..65536 (default 256)
  --op write|read      what each client does: perform write(payload) (default), or read
                       the state with linearizable_state() (inprocess and embedded modes)
  --read-lease         every node serves linearizable reads from a leader lease
                       (Options::read_lease) instead of a heartbeat round each
  --duration SECONDS   how long to measure (default 5) ...
  --count N            ... or how many actions to measure
  --warmup SECONDS     load before measuring, excluded from the figures (default 1)
  --storage memory|file  no storage (default) or a write-ahead log in a temporary directory
  --fsync always|never with --storage file: fsync before acknowledging (default always)
  --reducer NAME       noop (default): the reducer ignores each action; counter: counts
                       them; map: stores each payload under one of 10,000 keys, in
                       place; map-copy: the same, copying the state (a Reducer)
  --snapshot-entries N snapshot and compact every N entries, 0: never (default: the
                       library's thresholds, 100000 entries or 64 MiB of actions)
  --target leader|all  send to the leader (default) or spread over every node
  --node-binary PATH   conflux-node to start (default: next to conflux-bench)
  --hub-binary PATH    conflux-hub to start (websocket; default: next to conflux-bench)
  --redis-binary PATH  redis-server to start (redis; default: redis-server on PATH)
  --connect H:P,...    drive existing nodes' HTTP APIs instead of starting any (tcp)
  --json FILE          write the parameters and figures as one JSON object
  --json-append FILE   append them as one line (JSON lines, for sweeps)
  --label TEXT         a free-form label stored in the JSON
  --tls DIR            (embedded) TLS between the nodes: DIR holds ca.pem and n1.pem,
                       n1.key, ... (apps/tls/make-dev-certs DIR n1 n2 n3)
  --pings N            round trips of the raw TCP ping-pong baseline (default 2000)
  --progress, --no-progress  force the progress line on or off (default: on a terminal)
  --help

Exit codes: 0 after a run, 1 when the run failed (no leader, a node died), 2 for
a bad command line, 130 when interrupted.
)";
}

}  // namespace conflux::bench
