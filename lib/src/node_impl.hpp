#pragma once
// Internals of conflux::Node. Everything runs on the node's executor; the
// owner coroutine is the only code that touches the Raft core.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <conflux/node.hpp>
#include <conflux/raft/raft.hpp>
#include <conflux/transport/channel.hpp>
#include <conflux/transport/packet.hpp>
#include <deque>
#include <map>
#include <optional>
#include <variant>

#include "state_machine.hpp"
#include "sync_worker.hpp"

namespace conflux {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace detail {

struct PerformCall {
  std::string method;
  boost::json::array args;
  Clock::time_point started;
  Clock::time_point deadline;
  PerformHandler handler;
};

/// A perform's life: waiting for a leader, forwarded to one, or proposed
/// at (index, term) and waiting to be applied here.
struct Pending {
  enum class Stage { waiting_leader, forwarded, proposed } stage = Stage::waiting_leader;
  PerformCall call;
  raft::NodeId forwarded_to;
  raft::NodeId refused_by;  // said "not leader": not asked again before the next tick
  raft::Index index = 0;
  raft::Term term = 0;
};

struct Tick {};
/// The worker finished syncing the Ready in flight (error: it failed).
struct SyncDone {
  std::exception_ptr error;
  double seconds = 0;  // how long the fdatasync took
};
using Event = std::variant<Tick, transport::Packet, PerformCall, SyncDone>;

}  // namespace detail

struct Node::Impl : std::enable_shared_from_this<Node::Impl> {
  Impl(asio::any_io_executor ex, Options opts);

  // node.cpp: the owner loop and the Ready pipeline
  void post_event(detail::Event event);
  asio::awaitable<void> owner();
  asio::awaitable<void> ticker();
  void handle(detail::Event& event);
  void drain_ready();
  void finish_ready(raft::Ready& ready);
  void send(transport::Packet packet);  // through the channel, unless isolated
  void on_sync_done(const detail::SyncDone& done);
  void storage_failed(const std::string& what);
  void on_applied(detail::AppliedAction applied);
  void notify(const boost::json::value& action);
  void remember_reducer_error(const detail::AppliedAction& applied);
  void fail_queued_calls();
  void fail_everything(const std::string& why);
  void report_role_change();
  void finish_close();
  void release_close_waiters();

  // perform.cpp: the life of a perform
  void accept_call(detail::PerformCall call);
  void dispatch_waiting();
  void run_on_leader(std::uint64_t id);
  void forward(std::uint64_t id, const raft::NodeId& leader);
  bool reachable(const raft::NodeId& peer) const;
  void serve_forwarded(const raft::NodeId& from, const transport::PerformRequest& request);
  void on_reply(const raft::NodeId& from, const transport::PerformReply& reply);
  void check_forwarded();
  void expire(Clock::time_point now);
  void await_apply(std::uint64_t id, raft::Index index, raft::Term term);
  void settle_applied_early(std::uint64_t id);
  std::optional<PerformHandler> take(std::uint64_t id);
  void complete(std::uint64_t id, boost::json::value result);
  void fail(std::uint64_t id, errc code, const std::string& message);

  /// What running a method on this leader gave: an action proposed at
  /// (index, term), null, a refusal (code, message), or "not the leader".
  struct MethodResult {
    transport::PerformReply::Outcome outcome = transport::PerformReply::Outcome::failed;
    raft::Index index = 0;
    raft::Term term = 0;
    errc code = errc::method_failed;
    std::string message;
  };
  MethodResult run_method(const std::string& method, const boost::json::array& args);

  asio::any_io_executor executor;
  Options options;
  std::unique_ptr<raft::Storage> store;
  storage::FileStorage* file = nullptr;  // the same object as store, when durable
  std::unique_ptr<raft::Raft> raft;
  detail::StateMachine machine;
  std::unique_ptr<transport::Channel> channel;
  std::optional<raft::Ready> syncing;  // written, waiting for the worker's fdatasync
  std::string storage_error;           // set once storage failed: nothing more is acknowledged
  bool isolated = false;               // fault injection: no packet in or out
  std::unique_ptr<detail::SyncWorker> worker;  // declared after store: joined before it goes

  std::deque<detail::Event> events;
  asio::steady_timer wake;  // the owner waits here for events
  asio::steady_timer tick_timer;
  std::chrono::milliseconds tick_interval;
  bool closing = false;
  std::size_t tasks = 0;  // owner, ticker, channel
  std::vector<asio::any_completion_handler<CloseSignature>> close_waiters;

  std::uint64_t next_id;  // random start per run: a stale reply cannot match a new perform
  std::map<std::uint64_t, detail::Pending> pending;
  std::multimap<raft::Index, std::uint64_t> by_index;  // proposed performs
  std::map<raft::Index, std::string> reducer_errors;   // recent entries the reducer refused
  struct Seen {
    raft::Role role = raft::Role::follower;
    raft::Term term = 0;
    raft::NodeId leader;
  } seen;                // last role, term and leader logged
  NodeMetrics counters;  // raft-side counts and channel traffic are added by metrics()
  std::uint64_t next_subscriber = 1;
  std::map<std::uint64_t, std::shared_ptr<const Subscriber>> subscribers;
};

}  // namespace conflux
