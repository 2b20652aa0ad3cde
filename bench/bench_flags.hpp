#pragma once
// conflux-bench's command line (`conflux-bench --help` prints usage()).

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "flag_reader.hpp"

namespace conflux::bench {

enum class Mode { inprocess, tcp, websocket, redis, embedded };
enum class Storage { memory, file };
/// The bench app's reducer (apps/builtin/bench.cpp: app "bench-<name>").
enum class Reducer { noop, counter, map, map_copy };
/// Where the clients send their performs: all to the leader, or spread
/// round-robin over every node (followers forward to the leader).
enum class Target { leader, all };
/// What each client does: perform write(payload), or read the state
/// linearizably (Node::linearizable_state, thesis §6.4).
enum class Op { write, read };

std::string_view to_string(Mode mode);
std::string_view to_string(Storage storage);
std::string_view to_string(Reducer reducer);
std::string_view to_string(Target target);
std::string_view to_string(Op op);

struct BenchFlags {
  Mode mode = Mode::inprocess;
  int nodes = 3;
  int concurrency = 16;
  std::size_t payload = 256;  ///< characters of the JSON string each action carries
  /// Exactly one of the two is set after parsing (duration defaults to 5 s).
  std::optional<double> duration;      ///< seconds measured after the warm-up
  std::optional<std::uint64_t> count;  ///< actions measured after the warm-up
  double warmup = 1;
  Storage storage = Storage::memory;
  bool fsync = true;  ///< with Storage::file: fsync before acknowledging
  Reducer reducer = Reducer::noop;
  /// Set: a snapshot every this many entries (0: never), the bytes threshold
  /// off. Unset: the library's defaults (Options::snapshot).
  std::optional<std::uint64_t> snapshot_entries;
  Target target = Target::leader;
  Op op = Op::write;
  bool read_lease = false;  ///< every node serves reads from a lease (Options::read_lease)
  std::string node_binary;  ///< empty: next to conflux-bench, then the build tree
  std::string hub_binary;
  std::string redis_binary;
  /// --tls DIR (embedded): TLS on the peer mesh, with DIR/ca.pem and
  /// DIR/<id>.pem, DIR/<id>.key for n1..nN (apps/tls/make-dev-certs DIR n1 n2 n3).
  std::string tls_dir;
  std::vector<std::string> connect;  ///< HTTP "host:port" of existing nodes (tcp mode)
  std::string json_file;
  bool json_append = false;  ///< one JSON object per line, appended
  std::string label;
  std::size_t pings = 2000;      ///< round trips of the raw TCP ping-pong
  std::optional<bool> progress;  ///< unset: a progress line when stdout is a terminal
  bool help = false;
};

using cli::FlagError;

/// Parses argv[1..]. Accepts "--flag value" and "--flag=value".
/// Throws FlagError.
BenchFlags parse_bench_flags(const std::vector<std::string>& args);

std::string bench_usage();

}  // namespace conflux::bench
