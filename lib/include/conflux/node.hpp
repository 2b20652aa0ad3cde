#pragma once
// A Conflux node: one replica of the shared state.
//
// Threading: the node runs on the executor given at construction (use one
// thread, or a strand). perform() may be called from anywhere; every other
// member function must be called on that executor. Completion handlers and
// subscriber callbacks run there too (or on the handler's own associated
// executor).

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <conflux/errors.hpp>
#include <conflux/metrics.hpp>
#include <conflux/options.hpp>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace conflux {

/// Completion signature of perform(): an exception (conflux::Error) or the
/// committed action (null when the method returned null).
using PerformSignature = void(std::exception_ptr, boost::json::value);
using PerformHandler = boost::asio::any_completion_handler<PerformSignature>;
using CloseSignature = void();

struct PeerProgress {
  std::string id;
  bool connected = false;  ///< the channel holds a live connection to it
  /// Highest index known replicated on it: known only on the leader.
  std::optional<std::uint64_t> match;
};

/// A connection of the channel to its relay (the WebSocket hub, or each
/// of the two to redis-server); the TCP mesh has none.
struct RelayLinkStatus {
  std::string name;  ///< "hub", "redis_subscriber" or "redis_publisher"
  std::string endpoint;
  bool up = false;
  std::uint64_t connects = 0;  ///< times it got through
  std::string last_error;      ///< why it last failed or ended; empty: never did
};

struct NodeStatus {
  std::string id;
  std::string role;  ///< "follower", "pre_candidate", "candidate" or "leader"
  std::uint64_t term = 0;
  std::string leader;  ///< empty when unknown
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t last_index = 0;
  /// The newest snapshot this node holds (index 0: none) and its size, and
  /// the first index its log still holds (docs/storage.md).
  std::uint64_t snapshot_index = 0;
  std::uint64_t snapshot_term = 0;
  std::uint64_t snapshot_bytes = 0;
  std::uint64_t first_index = 1;
  /// Empty while healthy; otherwise why the node stopped acknowledging
  /// writes (a storage failure).
  std::string error;
  /// Every other member of the cluster, in id order.
  std::vector<PeerProgress> peers;
  /// The channel's links to its relay, if it has one.
  std::vector<RelayLinkStatus> links;
  /// Cut off from the others by set_isolated() (fault injection).
  bool isolated = false;
  /// Connections the channel refused before a peer could speak, by reason
  /// (transport/tcp_mesh.hpp, refusal_reasons: a failed TLS handshake, a
  /// certificate that did not verify or does not name its sender, a hello
  /// refused); only the TCP mesh counts them.
  std::map<std::string, std::uint64_t> refusals;
};

/// The newest configuration in this node's log (thesis §4.1), committed or
/// not. While a change of voters is under way it is joint: `outgoing` then
/// lists the voters being left (thesis §4.3).
struct Members {
  std::vector<Peer> voters;
  std::vector<Peer> learners;
  std::vector<std::string> outgoing;
  bool committed = true;
};

/// One entry of this node's log, for display.
struct LogEntryView {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  bool committed = false;
  /// The action's JSON text; empty for the no-op a new leader appends, for
  /// a configuration entry, and for a session entry without an action.
  std::string action;
  /// A configuration entry's JSON (thesis §4.1: voters, outgoing while
  /// joint, learners, addresses); empty for any other entry.
  std::string configuration;
  /// A session entry's JSON (docs/protocol.md §4.5b: a session opened, or a
  /// perform's (client, seq) with its action or its recorded result);
  /// empty for any other entry.
  std::string session;
};

/// Called after each committed action (never for no-ops), in commit order.
using Subscriber =
    std::function<void(const boost::json::value& state, const boost::json::value& action)>;

/// Unsubscribes on destruction or on unsubscribe(). Movable. Once
/// unsubscribe() returns, the callback never runs again, even when it is
/// called from another subscriber's callback during the same commit, and
/// the node has released the callback (and what it captured); a callback
/// that unsubscribes itself is released when it returns.
class Subscription {
 public:
  Subscription() = default;
  Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, nullptr)) {}
  Subscription& operator=(Subscription&& other) noexcept {
    unsubscribe();
    cancel_ = std::exchange(other.cancel_, nullptr);
    return *this;
  }
  ~Subscription() { unsubscribe(); }
  void unsubscribe() {
    if (cancel_) std::exchange(cancel_, nullptr)();
  }

 private:
  std::function<void()> cancel_;
};

class Node {
 public:
  /// Validates `options` (std::invalid_argument naming each broken rule),
  /// joins the channel and starts the node's coroutines on `executor`.
  Node(boost::asio::any_io_executor executor, Options options);
  /// Closes the node if it is still open (without waiting).
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Runs `method` with `args` on the leader and completes once the
  /// resulting action is committed and applied on this node. Completion
  /// tokens: use_awaitable, use_future, deferred, a callback taking
  /// (std::exception_ptr, boost::json::value), ...
  ///
  /// Exactly once (thesis §6.3): the perform runs in this node's client
  /// session, and when its leader changes or its forward is lost it is
  /// sent again under the same sequence number, so a failover costs time,
  /// not an error, and never a second application. A timeout says whether
  /// the action may still be applied (errc::timeout) or certainly was not
  /// (errc::no_leader).
  template <class Token>
  auto perform(std::string method, boost::json::array args, std::chrono::milliseconds timeout,
               Token&& token) {
    return perform(std::move(method), std::move(args), std::optional<SessionCall>(), timeout,
                   std::forward<Token>(token));
  }
  /// As above, in the caller's own session (open_session()) at `session`:
  /// every node answers the same (client, seq) with the outcome of its one
  /// application, so a caller may send it again, to any node, after a lost
  /// answer. Fails with errc::session_expired once the session expired (the
  /// action was not applied), errc::stale_sequence below its `ack`.
  template <class Token>
  auto perform(std::string method, boost::json::array args, std::optional<SessionCall> session,
               std::chrono::milliseconds timeout, Token&& token) {
    // The initiation may run later (deferred, use_awaitable): it holds the
    // node's state, not `this`.
    return boost::asio::async_initiate<Token, PerformSignature>(
        [impl = impl_](auto handler, std::string m, boost::json::array a,
                       std::optional<SessionCall> s, std::chrono::milliseconds t) {
          start_perform(impl, std::move(m), std::move(a), s, t, PerformHandler(std::move(handler)));
        },
        token, std::move(method), std::move(args), session, timeout);
  }
  /// Opens a client session of the caller's own, for perform() with a
  /// SessionCall; it is forgotten once idle for `idle_timeout` by the
  /// leaders' clocks. Completes with its client id (a JSON number).
  template <class Token>
  auto open_session(std::chrono::milliseconds idle_timeout, Token&& token) {
    return perform(std::string(reserved::method_open_session),
                   boost::json::array{static_cast<std::uint64_t>(idle_timeout.count())},
                   std::forward<Token>(token));
  }
  /// As above, with Options::perform_timeout.
  template <class Token>
  auto perform(std::string method, boost::json::array args, Token&& token) {
    return perform(std::move(method), std::move(args), default_timeout(),
                   std::forward<Token>(token));
  }

  /// Membership changes (thesis ch. 4; docs/api.md "Membership"). Each runs
  /// on the leader like a perform (forwarded from a follower), with the
  /// same completion tokens and Options::perform_timeout, and completes
  /// once the change is committed. A change of voters goes through a joint
  /// configuration (thesis §4.3). While another change or a transfer is in
  /// progress a call waits and asks again, until its timeout; one that can
  /// never apply fails with errc::membership_refused naming why (an unknown
  /// id, an id already a member, the last voter).
  ///
  /// add_member: `peer` joins as a learner (it receives the log but does
  /// not vote); unless `as_learner`, it is then promoted to voter once it
  /// has caught up (thesis §4.2.1). Its address reaches every member through
  /// the configuration entry.
  template <class Token>
  auto add_member(Peer peer, bool as_learner, Token&& token) {
    return perform(std::string(reserved::method_add_member),
                   boost::json::array{boost::json::string(peer.id),
                                      boost::json::string(peer.address), as_learner},
                   std::forward<Token>(token));
  }
  /// Removes a voter or a learner. A leader that removes itself leads until
  /// the change commits, then steps down (thesis §4.2.2).
  template <class Token>
  auto remove_member(std::string id, Token&& token) {
    return perform(std::string(reserved::method_remove_member),
                   boost::json::array{boost::json::string(id)}, std::forward<Token>(token));
  }
  /// Makes a learner a voter, once it has caught up (thesis §4.2.1).
  template <class Token>
  auto promote(std::string id, Token&& token) {
    return perform(std::string(reserved::method_promote),
                   boost::json::array{boost::json::string(id)}, std::forward<Token>(token));
  }
  /// Hands leadership to voter `id` (thesis §3.10): the leader stops taking
  /// performs, brings `id` up to date and tells it to campaign at once.
  /// Completes when this node hears of `id` as leader.
  template <class Token>
  auto transfer_leadership(std::string id, Token&& token) {
    return perform(std::string(reserved::method_transfer_leadership),
                   boost::json::array{boost::json::string(id)}, std::forward<Token>(token));
  }
  /// The newest configuration in this node's log.
  Members members() const;

  /// The committed state: every committed action, reduced in order. It may
  /// lag the cluster (a follower behind, a deposed leader that does not
  /// know it yet); linearizable_state() does not.
  const boost::json::value& state() const;
  /// The committed state, read linearizably (thesis §6.4, ReadIndex): it
  /// reflects every action committed before the call, on any node. The
  /// leader confirms that it still leads with one heartbeat round, which
  /// concurrent reads share; a follower asks the leader for the index, then
  /// completes once it has applied that far. Writes nothing to the log or
  /// the disk. Fails with errc::no_leader when no leader confirms a read
  /// index within `timeout`, errc::timeout when this node does not apply up
  /// to it in time, and errc::closed. Tokens as for perform().
  template <class Token>
  auto linearizable_state(std::chrono::milliseconds timeout, Token&& token) {
    return boost::asio::async_initiate<Token, PerformSignature>(
        [impl = impl_](auto handler, std::chrono::milliseconds t) {
          start_read(impl, t, PerformHandler(std::move(handler)));
        },
        token, timeout);
  }
  /// As above, with Options::perform_timeout.
  template <class Token>
  auto linearizable_state(Token&& token) {
    return linearizable_state(default_timeout(), std::forward<Token>(token));
  }
  /// The committed state with every action still in the log on top.
  const boost::json::value& provisional_state() const;
  Subscription subscribe(Subscriber callback);
  NodeStatus status() const;
  /// Counters and latency histograms since the node was built.
  NodeMetrics metrics() const;
  /// The last `count` entries of this node's log, oldest first (never
  /// before status().first_index: the rest is in the snapshot).
  std::vector<LogEntryView> log_tail(std::size_t count) const;
  /// Up to `count` entries of this node's log from index `first` on, oldest
  /// first: none before status().first_index (the rest is in the snapshot)
  /// and none after status().last_index.
  std::vector<LogEntryView> log_entries(std::uint64_t first, std::size_t count) const;
  /// Snapshots the state soon, whatever Options::snapshot says, and
  /// compacts the log (Raft §7). Returns at once; status().snapshot_index
  /// shows when it is done.
  void request_snapshot();

  /// Fault injection (demos, tests): while isolated the node neither sends
  /// nor accepts a packet, as if every link to it were cut. Its timers run
  /// on: a leader steps down (check-quorum), a follower campaigns in vain.
  void set_isolated(bool isolated);

  /// Reads the TLS certificate, key and authority of the TCP channel again
  /// from their files (after a rotation): new connections use them, those
  /// established keep theirs. Returns "" once reloaded (or without TLS),
  /// else why not, and the ones in use stay. Call it on the node's executor.
  std::string reload_tls();

  /// Fails pending performs with errc::closed, leaves the channel and stops
  /// every coroutine; completes when all have ended. Idempotent.
  template <class Token>
  auto close(Token&& token) {
    return boost::asio::async_initiate<Token, CloseSignature>(
        [impl = impl_](auto handler) {
          start_close(impl,
                      boost::asio::any_completion_handler<CloseSignature>(std::move(handler)));
        },
        token);
  }

  /// Options::perform_timeout: the timeout of calls that take none.
  std::chrono::milliseconds default_timeout() const;

  struct Impl;

 private:
  static void start_perform(const std::shared_ptr<Impl>& impl, std::string method,
                            boost::json::array args, std::optional<SessionCall> session,
                            std::chrono::milliseconds timeout, PerformHandler handler);
  static void start_read(const std::shared_ptr<Impl>& impl, std::chrono::milliseconds timeout,
                         PerformHandler handler);
  static void start_close(const std::shared_ptr<Impl>& impl,
                          boost::asio::any_completion_handler<CloseSignature> handler);

  std::shared_ptr<Impl> impl_;
};

}  // namespace conflux
