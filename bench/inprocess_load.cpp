// The load targets whose clients perform on nodes of this process, on one
// io_context thread:
// - --mode inprocess: all N nodes here, on an InProcessNetwork. No sockets,
//   no serialization between nodes: what is left is the cost of Conflux
//   itself (perform, the owner's rounds, the Raft core, the reducer,
//   storage when asked for).
// - --mode embedded: n1 here on the TCP mesh, the leader, as in an
//   application embedding Conflux; n2..nN are conflux-node processes. This
//   is how NuRaft's raft_bench measures (its clients call the leader's
//   append_entries in the leader's process).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <future>
#include <optional>
#include <thread>

#include "apps.hpp"
#include "cluster_ready.hpp"
#include "http_response.hpp"
#include "interrupt.hpp"
#include "load_target.hpp"
#include "node_processes.hpp"
#include "proc_stats.hpp"
#include "spawn_logged.hpp"
#include "support/temp_dir.hpp"

namespace conflux::bench {

using test::TempDir;

namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::chrono::seconds ready_timeout{20};

/// What the error table calls a failed perform.
std::string kind_of(const std::exception_ptr& error, bool& closed) {
  try {
    std::rethrow_exception(error);
  } catch (const conflux::Error& e) {
    closed = e.code() == errc::closed;
    return std::string(to_string(e.code()));
  } catch (const std::exception& e) {
    return e.what();
  }
}

/// One closed-loop client: a perform (or a linearizable read), then the
/// next once it completes.
asio::awaitable<void> client(std::shared_ptr<LoadRecorder> recorder, Node* node, json::array args,
                             Op op) {
  const std::string method = "write";
  for (bool more = true; more;) {
    const auto sent = Clock::now();
    std::exception_ptr error;
    // g++ 12: each call is built outside the co_await expression.
    if (op == Op::read) {
      auto read = node->linearizable_state(asio::as_tuple(asio::use_awaitable));
      error = std::get<0>(co_await std::move(read));
    } else {
      auto perform = node->perform(method, args, asio::as_tuple(asio::use_awaitable));
      error = std::get<0>(co_await std::move(perform));
    }
    const auto done = Clock::now();
    bool closed = false;
    more = error ? recorder->on_error(kind_of(error, closed), done) && !closed
                 : recorder->on_success(sent, done);
  }
}

apps::App bench_app(Reducer reducer) {
  return *apps::by_name("bench-" + std::string(to_string(reducer)));
}

/// Node `index` without its channel and peers: the app and the storage.
Options app_options(const BenchFlags& flags, int index, const std::optional<TempDir>& dir) {
  Options options;
  options.id = node_id(index);
  bench_app(flags.reducer).install(options);
  if (flags.snapshot_entries) options.snapshot = {*flags.snapshot_entries, 0, 1024};
  options.read_lease.enabled = flags.read_lease;
  if (dir) {
    options.data_dir = dir->path() / options.id;
    options.fsync = flags.fsync ? storage::FsyncPolicy::always : storage::FsyncPolicy::never;
  }
  return options;
}

Options inprocess_options(const BenchFlags& flags, int index, transport::InProcessNetwork& network,
                          const std::optional<TempDir>& dir) {
  auto options = app_options(flags, index, dir);
  for (int i = 0; i < flags.nodes; ++i) options.peers.push_back({node_id(i), ""});
  options.channel = InProcessChannelOptions{&network};
  return options;
}

/// n1 of --mode embedded: on the TCP mesh with the processes of `cluster`.
/// Its election timeout is the default (300–500 ms) and theirs much longer,
/// so n1 is the one elected.
Options embedded_options(const BenchFlags& flags, const NodeProcesses& cluster,
                         const std::optional<TempDir>& dir) {
  auto options = app_options(flags, 0, dir);
  for (int i = 0; i < flags.nodes; ++i)
    options.peers.push_back({node_id(i), cluster.peer_address(i)});
  options.channel = TcpChannelOptions{
      .listen = cluster.peer_address(0),
      .cluster = "bench",
      .tls = flags.tls_dir.empty() ? transport::TlsFiles{} : tls_files(flags.tls_dir, node_id(0))};
  return options;
}

class InProcessTarget final : public LoadTarget {
 public:
  explicit InProcessTarget(const BenchFlags& flags)
      : concurrency_(flags.concurrency),
        spread_(flags.target == Target::all),
        op_(flags.op),
        args_(json::parse(write_arguments(flags.payload)).as_array()) {
    if (flags.storage == Storage::file) dir_.emplace("conflux-bench");
    if (flags.mode == Mode::embedded) {
      cluster_ = std::make_unique<NodeProcesses>(node_processes_spec(flags));
      nodes_.push_back(
          std::make_unique<Node>(io_.get_executor(), embedded_options(flags, *cluster_, dir_)));
    } else {
      for (int i = 0; i < flags.nodes; ++i)
        nodes_.push_back(std::make_unique<Node>(io_.get_executor(),
                                                inprocess_options(flags, i, network_, dir_)));
    }
    thread_ = std::thread([this] { io_.run(); });
    wait_until_ready();
  }
  ~InProcessTarget() override { stop(); }

  std::string leader() const override { return leader_id_; }

  void start(std::shared_ptr<LoadRecorder> recorder) override {
    recorder_ = recorder;
    asio::post(io_, [this, recorder] {
      for (int i = 0; i < concurrency_; ++i) {
        const auto node = spread_ ? static_cast<std::size_t>(i) % nodes_.size() : leader_;
        asio::co_spawn(io_, client(recorder, nodes_[node].get(), args_, op_), log_unexpected);
      }
    });
  }

  void stop() override;

  std::vector<ProcessSample> sample() override;

  void check() override {
    if (cluster_) cluster_->check_alive();
  }

 private:
  /// Runs `f` on the io_context thread and returns its result.
  template <class F>
  auto on_io_thread(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, std::move(task));
    return result.get();
  }
  void wait_until_ready();
  asio::awaitable<void> close_nodes();

  const int concurrency_;
  const bool spread_;
  const Op op_;
  const json::array args_;
  std::optional<TempDir> dir_;              // outlives the nodes' files
  std::unique_ptr<NodeProcesses> cluster_;  // --mode embedded: n2..nN
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  transport::InProcessNetwork network_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::size_t leader_ = 0;
  std::string leader_id_;
  std::shared_ptr<LoadRecorder> recorder_;
  std::thread thread_;
  bool stopped_ = false;
};

void InProcessTarget::wait_until_ready() {
  const auto deadline = Clock::now() + ready_timeout;
  for (;;) {
    const auto statuses = on_io_thread([this] {
      std::vector<std::optional<NodeStatus>> all;
      for (const auto& node : nodes_) all.emplace_back(node->status());
      return all;
    });
    if (const auto leader = ready_leader(statuses)) {
      leader_ = *leader;
      leader_id_ = statuses[*leader]->id;
      return;
    }
    if (Clock::now() > deadline) {
      stop();
      if (!cluster_) throw std::runtime_error("the in-process cluster elected no leader in time");
      throw std::runtime_error(
          "n1 was not elected with every peer connected in time; their logs:\n" +
          cluster_->logs(10));
    }
    if (cluster_) {
      try {
        cluster_->check_alive();
      } catch (...) {
        stop();
        throw;
      }
    }
    if (interrupted()) {
      stop();
      throw Interrupted();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Closing a node fails its pending performs with errc::closed, which ends
// the clients; once the nodes' coroutines have ended too, io_.run()
// returns by itself.
void InProcessTarget::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (recorder_) recorder_->request_stop();
  asio::co_spawn(io_, close_nodes(), log_unexpected);
  work_.reset();
  thread_.join();
}

std::vector<ProcessSample> InProcessTarget::sample() {
  if (!cluster_) return {{"process", "process", own_cpu_seconds(), own_peak_rss_bytes()}};
  std::vector<ProcessSample> samples;
  for (const auto& child : cluster_->processes())
    samples.push_back(
        {child->name(), "node", process_cpu_seconds(child->pid()), peak_rss_bytes(child->pid())});
  samples.push_back({"n1+clients", "leader", own_cpu_seconds(), own_peak_rss_bytes()});
  return samples;
}

asio::awaitable<void> InProcessTarget::close_nodes() {
  for (const auto& node : nodes_) co_await node->close(asio::use_awaitable);
}

}  // namespace

std::unique_ptr<LoadTarget> make_inprocess_target(const BenchFlags& flags) {
  return std::make_unique<InProcessTarget>(flags);
}

}  // namespace conflux::bench
