#pragma once
// Internals of conflux::Node: the Asio driver of the node engine
// (engine.hpp). Everything runs on the node's executor; the owner coroutine
// is the only code that calls the engine. The driver owns what the engine
// must not: the executor and its timers, the channel, the storage and its
// sync worker, and the completion handlers of pending performs.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <conflux/node.hpp>
#include <conflux/transport/channel.hpp>
#include <conflux/transport/packet.hpp>
#include <deque>
#include <map>
#include <optional>
#include <variant>

#include "engine.hpp"
#include "sync_worker.hpp"

namespace conflux {

namespace asio = boost::asio;
using detail::Clock;

namespace detail {

/// A perform, or with `read` a linearizable read of the state (no method).
struct PerformCall {
  std::string method;
  boost::json::array args;
  Clock::time_point started;
  Clock::time_point deadline;
  PerformHandler handler;
  bool read = false;
  std::optional<SessionCall> session;
};

struct Tick {};
/// The worker finished sync number `sync` (error: it failed).
struct SyncDone {
  std::exception_ptr error;
  double seconds = 0;  // how long the fdatasync took
  std::uint64_t sync = 0;
};
/// The snapshot worker finished writing a snapshot (error: it failed).
struct SnapshotDone {
  std::shared_ptr<storage::SnapshotWriter> writer;
  raft::SnapshotMeta meta;
  std::exception_ptr error;
  double seconds = 0;  // from the copy of the state to the file renamed
};
using Event = std::variant<Tick, transport::Packet, PerformCall, SyncDone, SnapshotDone>;

/// The completion handlers of pending performs, by the engine's id. Ids are
/// consecutive and performs mostly finish in order, so a deque indexed from
/// the oldest pending id costs no allocation per perform (a map did: 4 % of
/// the instructions of an in-process perform).
class HandlerTable {
 public:
  explicit HandlerTable(std::uint64_t first_id) : base_(first_id) {}
  void put(std::uint64_t id, PerformHandler handler);
  /// The handler of `id`, once; empty if there is none.
  PerformHandler take(std::uint64_t id);

 private:
  std::uint64_t base_;                // the id of slots_.front()
  std::deque<PerformHandler> slots_;  // an empty handler: already taken
};

}  // namespace detail

struct Node::Impl : std::enable_shared_from_this<Node::Impl> {
  Impl(asio::any_io_executor ex, Options opts);
  Impl(asio::any_io_executor ex, Options opts, std::uint64_t first_id);

  void post_event(detail::Event event);
  asio::awaitable<void> owner();
  asio::awaitable<void> ticker();
  void round(std::deque<detail::Event>& batch);
  void handle(detail::Event& event);
  void drain_ready();
  void start_sync();
  bool installing() const;
  void finish_ready(raft::Ready& ready);
  void on_sync_done(const detail::SyncDone& done);
  void start_snapshot();
  void on_snapshot_done(detail::SnapshotDone& done);
  void carry_out();
  void deliver(detail::Completion completion);
  void send(transport::Packet packet);  // through the channel, unless isolated
  bool reachable(const raft::NodeId& peer) const;
  void storage_failed(const std::string& what);
  void fail_round(std::deque<detail::Event>& unhandled, const std::string& why);
  void fail_calls(std::deque<detail::Event>& queued, const std::string& why);
  void refuse(detail::PerformCall& call, const std::string& why);
  void report_role_change();
  void follow_configuration();
  void finish_close();
  void release_close_waiters();

  asio::any_io_executor executor;
  Options options;
  std::unique_ptr<storage::NodeStorage> store;
  bool durable = false;  // store is a FileStorage: fdatasync on the worker
  std::unique_ptr<detail::Engine> engine;
  std::unique_ptr<transport::Channel> channel;
  raft::Configuration followed;  // the configuration the channel was last given
  /// Readys written and not yet finished, oldest first (ready.hpp,
  /// "Pipelining"): each is finished once sync number `sync` has returned,
  /// and after every Ready before it.
  struct Written {
    raft::Ready ready;
    std::uint64_t sync = 0;
  };
  std::deque<Written> writing;
  std::uint64_t syncs_started = 0;  // sync jobs handed to the worker
  std::uint64_t syncs_done = 0;     // of which returned, in order
  std::string storage_error;        // set once storage failed: nothing more is acknowledged
  bool isolated = false;            // fault injection: no packet in or out
  // Declared after store: joined before it goes. One syncs the log, the
  // other writes snapshots, so that a long snapshot never delays a sync.
  std::unique_ptr<detail::SyncWorker> worker;
  detail::SyncWorker snapshot_worker;

  std::deque<detail::Event> events;
  asio::steady_timer wake;  // the owner waits here for events
  asio::steady_timer tick_timer;
  std::chrono::milliseconds tick_interval;
  bool closing = false;
  std::size_t tasks = 0;  // owner, ticker, channel
  std::vector<asio::any_completion_handler<CloseSignature>> close_waiters;

  detail::HandlerTable handlers;
  Histogram fsync_latency;
  struct Seen {
    raft::Role role = raft::Role::follower;
    raft::Term term = 0;
    raft::NodeId leader;
  } seen;  // last role, term and leader logged
};

}  // namespace conflux
