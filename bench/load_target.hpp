#pragma once
// What a run measures: a cluster and the clients that load it. The
// in-process target holds both in this process; the HTTP target drives
// conflux-node processes (started here, or given with --connect).

#include <conflux/transport/tls.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_flags.hpp"
#include "load_recorder.hpp"

namespace conflux::bench {

/// One process whose resources the report shows.
struct ProcessSample {
  std::string
      name;  ///< "n1", "hub", "redis", "bench", "process" (inprocess) or "n1+clients" (embedded)
  /// "node", "hub", "redis", "bench", "process" (every node and the clients) or
  /// "leader" (n1 and the clients)
  std::string role;
  std::optional<double> cpu_seconds;      ///< so far; unknown for --connect
  std::optional<std::uint64_t> peak_rss;  ///< bytes
};

class LoadTarget {
 public:
  virtual ~LoadTarget() = default;

  /// The id of the leader the cluster had when the load started.
  virtual std::string leader() const = 0;
  /// Starts the clients on the load thread; they report to `recorder` and
  /// end once it stops.
  virtual void start(std::shared_ptr<LoadRecorder> recorder) = 0;
  /// Ends the clients and joins the load thread. Idempotent.
  virtual void stop() = 0;
  /// CPU time so far and peak memory of every process involved.
  virtual std::vector<ProcessSample> sample() = 0;
  /// Throws std::runtime_error when part of the cluster died during the run.
  virtual void check() {}
};

/// The id of node `index` of a cluster the bench starts: n1, n2, ...
/// (Appended rather than written "n" + ...: g++ 12 at -O3 reports a false
/// -Wrestrict on that operator+.)
inline std::string node_id(int index) {
  std::string id = "n";
  id += std::to_string(index + 1);
  return id;
}

/// Node `id`'s TLS files in `dir` (--tls): <id>.pem, <id>.key, ca.pem.
inline transport::TlsFiles tls_files(const std::string& dir, const std::string& id) {
  return {.certificate = dir + "/" + id + ".pem",
          .private_key = dir + "/" + id + ".key",
          .authority = dir + "/ca.pem"};
}

/// The target of --mode inprocess and embedded: returns once the cluster is
/// ready.
std::unique_ptr<LoadTarget> make_inprocess_target(const BenchFlags& flags);
/// The target of --mode tcp / websocket: starts the processes (unless
/// --connect) and returns once the cluster is ready.
std::unique_ptr<LoadTarget> make_http_target(const BenchFlags& flags);

}  // namespace conflux::bench
