#pragma once
// The node engine: everything a Conflux node decides, with no I/O, no clock
// of its own and no Asio, in the spirit of Boost.MySQL's sans-io algorithms.
// It holds the Raft core, the state machine, the perform table and the
// subscribers. Its driver feeds it events and carries out what it asks for,
// which it hands out as values:
//
//   events   tick(), receive(packet), perform(call), persisted(ready),
//            snapshot_taken(meta)
//   outputs  next_ready(): the core's next Ready, which the driver carries
//            out as raft.hpp says (early messages, write, messages once
//            durable); take_sends(): client messages for the channel;
//            take_completions(): performs that finished, by id;
//            take_snapshot_job(): a copy of the state to snapshot
//
// A round: feed the events, then drain Readys (send each one's early
// messages, persist it, and once durable send its messages and call
// persisted()), then settle(), then drain again, then carry out the sends
// and completions. The driver sends a Ready's messages before persisted()
// applies its entries: followers should not wait for the leader's reducer.
// lib/'s Asio driver is node.cpp; the browser driver will be another.
//
// Not thread-safe: one driver thread (or strand) calls everything, and never
// from inside a call to the engine: methods, reducers and subscribers run
// inside it, so a driver queues what they ask for (perform, close) for its
// next round.

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <conflux/errors.hpp>
#include <conflux/metrics.hpp>
#include <conflux/options.hpp>
#include <conflux/raft/raft.hpp>
#include <conflux/transport/packet.hpp>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "snapshot_codec.hpp"
#include "state_machine.hpp"

namespace conflux::detail {

using Clock = std::chrono::steady_clock;
/// node.hpp's Subscriber: called after each committed action.
using Subscriber =
    std::function<void(const boost::json::value& state, const boost::json::value& action)>;

/// A perform that finished: its id (from Engine::perform) and either an
/// error (a conflux::Error) or the committed action (null when the method
/// returned null).
struct Completion {
  std::uint64_t id = 0;
  std::exception_ptr error;
  boost::json::value result;
};

/// Removes `id` from the ids filed under `key` in `index` (a multimap).
template <class Index, class Key>
void unlist(Index& index, const Key& key, std::uint64_t id) {
  for (auto [it, end] = index.equal_range(key); it != end; ++it) {
    if (it->second == id) {
      index.erase(it);
      return;
    }
  }
}

/// How often the driver should call Engine::tick() for `options`' timings.
std::chrono::milliseconds tick_interval(const Options& options);

/// The committed state after entry `index` (of term `term`), copied for a
/// snapshot that the driver writes off the engine's thread.
using reserved::method_add_member;
using reserved::method_open_session;
using reserved::method_promote;
using reserved::method_remove_member;
using reserved::method_transfer_leadership;
bool is_membership_method(std::string_view name);
/// The errc named `name` (errors.hpp's to_string), or method_failed.
errc code_named(std::string_view name);

struct SnapshotJob {
  /// The snapshot's index, term and configuration (its size is 0 until written).
  raft::SnapshotMeta identity;
  SnapshotContent content;
};

/// What the engine asks of its environment, synchronously.
struct EngineHooks {
  /// Whether a live link to the peer exists: a perform is forwarded only
  /// over one (node.cpp: the channel's status, and not isolated).
  std::function<bool(const raft::NodeId& peer)> reachable;
  /// The time, for deadlines and latency.
  std::function<Clock::time_point()> now;
  /// The calendar time in ms since the epoch, which a leader writes into
  /// session entries (sessions.hpp: sessions expire by it).
  std::function<std::uint64_t()> wall_clock;
};

class Engine {
 public:
  /// Restores the core and the state from `storage` (its snapshot, then
  /// its log), which it keeps reading: snapshots are read from it. `options`
  /// is validated; `tick` is the driver's tick interval (election timeouts
  /// are counted in ticks). Perform ids start at `first_id`: give each run
  /// of a node a different one, so that a stale reply never matches a new
  /// perform.
  Engine(const Options& options, std::chrono::milliseconds tick, const raft::Storage& storage,
         std::uint64_t first_id, EngineHooks hooks);

  // ----- events
  /// Time has passed: the driver calls it every tick interval. With a read
  /// lease, the engine counts the ticks due by hooks.now() itself, and
  /// catches up before it receives a packet or starts a read.
  void tick();
  void receive(transport::Packet packet);
  /// Starts a perform; its Completion carries the returned id. A user
  /// method runs in this node's client session (client_sessions.cpp), or in
  /// the caller's own `session`.
  std::uint64_t perform(std::string method, boost::json::array args, Clock::time_point started,
                        Clock::time_point deadline, std::optional<SessionCall> session = {});
  /// Starts a linearizable read of the committed state (reads.cpp, thesis
  /// §6.4); its Completion, by the returned id, carries the state.
  std::uint64_t read(Clock::time_point deadline);

  // ----- the Ready pipeline (raft.hpp's contract)
  /// The core's next Ready, or nullopt; several may be outstanding
  /// (ready.hpp, "Pipelining"), persisted() in the order they came. The
  /// driver sends its early messages at once, persists it, and sends its
  /// messages once that and every earlier Ready is durable.
  std::optional<raft::Ready> next_ready();
  /// `ready` is durable and its messages are sent: its committed entries
  /// are applied (subscribers, completions) and the core advances.
  void persisted(const raft::Ready& ready);
  /// End of a round: session performs sent to a replaced leader (or
  /// unanswered for an election timeout) are sent again, performs waiting
  /// for a leader go to the one known now, sessionless forwards whose leader
  /// was replaced fail as outcome_unknown, and the provisional state catches
  /// up with the log.
  void settle();
  /// Fails every pending perform with `code` (closing, or a fatal error).
  void fail_all(errc code, const std::string& message);

  // ----- snapshots (snapshots.cpp; Raft §7)
  /// A snapshot to write, when Options::snapshot's thresholds or a request
  /// say one is due and none is being written. The driver writes it with
  /// write_snapshot() (snapshot_codec.hpp), then reports snapshot_taken().
  std::optional<SnapshotJob> take_snapshot_job();
  /// Takes a snapshot at the next take_snapshot_job(), thresholds or not.
  void request_snapshot() { snapshot_requested_ = true; }
  /// The job's snapshot is stored as `meta` (nullopt: it failed, or a newer
  /// one was installed meanwhile): the core compacts its log.
  void snapshot_taken(const std::optional<raft::SnapshotMeta>& meta, double seconds);

  // ----- outputs
  std::vector<transport::Packet> take_sends();
  std::vector<Completion> take_completions();

  // ----- subscribers (node.hpp: Subscription's guarantees)
  std::uint64_t subscribe(Subscriber callback);
  void unsubscribe(std::uint64_t id);

  // ----- views
  const raft::Raft& raft() const { return *raft_; }
  const boost::json::value& state() const { return machine_.committed(); }
  const boost::json::value& provisional_state() const { return machine_.provisional(); }
  /// Counters this engine keeps (performs, applied entries, refusals);
  /// the driver adds its own (fsync latency, channel traffic).
  NodeMetrics& counters() { return counters_; }

 private:
  /// A perform's life: waiting for a leader, forwarded to one, or proposed
  /// at (index, term) and waiting to be applied here.
  struct Pending {
    /// transferring: a leadership transfer the leader accepted, waiting
    /// for this node to hear of the new leader (membership.cpp).
    /// observing: on the leader, a null result or a refusal waiting to be
    /// confirmed (observations.cpp).
    enum class Stage { waiting_leader, forwarded, proposed, transferring, observing };
    Stage stage = Stage::waiting_leader;
    std::string method;
    boost::json::array args;
    Clock::time_point started;
    Clock::time_point deadline;
    raft::NodeId forwarded_to;
    raft::NodeId refused_by;  // said "not leader": not asked again before the next tick
    raft::Index index = 0;
    raft::Term term = 0;
    /// In a client session: (client, seq), 0 until assigned; whether the
    /// caller chose them (SessionCall); whether a leader was ever asked to
    /// run it, and at which tick it last was.
    std::uint64_t client = 0;
    std::uint64_t seq = 0;
    std::uint64_t ack = 0;
    bool own_session = true;
    bool sent = false;
    std::uint64_t sent_tick = 0;
  };
  using Stage = Pending::Stage;
  /// What running a method on this leader gave: an action proposed at
  /// (index, term), null, a refusal (code, message), or "not the leader".
  struct MethodResult {
    transport::PerformReply::Outcome outcome = transport::PerformReply::Outcome::failed;
    raft::Index index = 0;
    raft::Term term = 0;
    errc code = errc::method_failed;
    std::string message;
  };

  // engine.cpp: events, the Ready pipeline, applying, subscribers
  int ticks_due(Clock::time_point now);
  void catch_up();
  void step(raft::Message message);
  void on_applied(AppliedAction applied);
  void notify(const boost::json::value& action);
  void remember_reducer_error(const AppliedAction& applied);
  // snapshots.cpp
  void install(const raft::SnapshotMeta& meta);
  void restore(const raft::SnapshotMeta& meta);
  bool snapshot_due() const;
  void count_sent_snapshots(const raft::Ready& ready);
  void send(transport::Packet packet) { sends_.push_back(std::move(packet)); }

  // observations.cpp: null results and refusals, answered linearizably
  /// Who waits for an observation: a local perform, or (perform 0) the
  /// follower `from` that forwarded request `request`.
  struct Observer {
    std::uint64_t perform = 0;
    raft::NodeId from;
    std::uint64_t request = 0;
  };
  /// A method's answer read from this leader's log up to (index, term).
  struct Observation {
    Observer observer;
    MethodResult result;
    raft::Index index = 0;
    raft::Term term = 0;
    bool confirmed = false;        // a heartbeat round after it was answered
    std::optional<bool> log_held;  // once applied: whether the entry at index had term
  };
  static bool observes_state(const std::string& method, const MethodResult& result);
  void observe(Observer observer, MethodResult result);
  bool on_observation_read(std::uint64_t read, raft::Index index);
  void settle_observations();
  void answer(const Observer& observer, const MethodResult& result);
  void rerun(const Observer& observer);

  // reads.cpp: linearizable reads
  /// A read: its deadline, its read index once known (0 until then, or
  /// after a refusal), and whether the core is being asked for one.
  struct PendingRead {
    Clock::time_point deadline;
    raft::Index index = 0;
    bool asked = false;
  };
  void on_read_states(const std::vector<raft::ReadState>& states);
  void serve_reads();
  void tick_reads(Clock::time_point now);
  void fail_read(std::uint64_t id, errc code, const std::string& message);
  void fail_reads(errc code, const std::string& message);

  // membership.cpp: membership changes and transfers, run as reserved methods
  MethodResult run_membership(const std::string& method, const boost::json::array& args);
  bool retry_later(std::uint64_t id, errc code);
  bool continue_membership(std::uint64_t id);
  void settle_transfers();

  // client_sessions.cpp: exactly-once performs (thesis §6.3)
  bool in_session(const Pending& p) const;
  bool ready_to_send(std::uint64_t id);
  void open_own_session();
  MethodResult run_open_session(const boost::json::array& args);
  bool adopt_session(std::uint64_t id, raft::Index index);
  bool opens_session(std::uint64_t client) const;
  MethodResult run_in_session(std::uint64_t client, std::uint64_t seq, std::uint64_t ack,
                              const std::string& method, const boost::json::array& args);
  MethodResult propose_session_entry(SessionEntry entry, std::string_view payload,
                                     boost::json::value action, bool reduced);
  void on_session_applied(AppliedAction& applied);
  void on_sessions_expired(const std::vector<std::uint64_t>& expired);
  void settle_from_sessions(std::uint64_t id);
  void finish(std::uint64_t id, const SessionOutcome& outcome, boost::json::value action);
  void requeue(std::uint64_t id);
  void requeue_orphans();
  bool held_until_expiry(std::uint64_t id, errc code);
  void settle_ended_sessions(raft::Index snapshot_index);
  std::uint64_t own_ack() const;

  // performs.cpp: the life of a perform
  void dispatch_waiting();
  void check_forwarded();
  void expire(Clock::time_point now);
  void run_on_leader(std::uint64_t id);
  MethodResult run_method(const std::string& method, const boost::json::array& args);
  MethodResult evaluate(const std::string& method, const boost::json::array& args,
                        boost::json::value& action, std::string& payload);
  void forward(std::uint64_t id, const raft::NodeId& leader);
  void serve_forwarded(const raft::NodeId& from, const transport::PerformRequest& request);
  void on_reply(const raft::NodeId& from, const transport::PerformReply& reply);
  void await_apply(std::uint64_t id, raft::Index index, raft::Term term);
  void settle_applied_early(std::uint64_t id);
  bool take(std::uint64_t id);
  void complete(std::uint64_t id, boost::json::value result);
  void fail(std::uint64_t id, errc code, const std::string& message);

  std::string id_;
  Options::SnapshotPolicy snapshot_policy_;
  const raft::Storage& storage_;
  std::map<std::string, Method> methods_;
  LogSink log_;
  EngineHooks hooks_;
  std::unique_ptr<raft::Raft> raft_;
  StateMachine machine_;  // invariant after settle(): synced with raft_->log()

  std::uint64_t next_id_;
  std::uint64_t ticks_ = 0;
  std::chrono::milliseconds session_timeout_;
  std::chrono::milliseconds tick_;
  Clock::time_point next_tick_;  // with a lease: when the core's next tick is due
  bool lease_;
  std::uint64_t client_ = 0;    // this node's session, once its open entry is applied here
  std::uint64_t next_seq_ = 1;  // in client_
  std::uint64_t opening_ = 0;   // the perform opening client_, if one is
  std::multimap<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> by_key_;  // (client, seq)
  std::map<std::uint64_t, Pending> pending_;
  std::multimap<raft::Index, std::uint64_t> by_index_;  // proposed performs
  std::map<std::uint64_t, PendingRead> reads_;
  std::map<std::uint64_t, Observation> observations_;  // by the read id that confirms each
  std::map<raft::Index, std::string> reducer_errors_;  // recent entries the reducer refused
  bool snapshot_requested_ = false;
  bool snapshot_writing_ = false;
  raft::Index snapshot_tried_ = 0;   // the index of the snapshot being written, or last tried
  raft::Index snapshot_failed_ = 0;  // the index of the last snapshot that failed, if any
  std::uint64_t bytes_since_snapshot_ = 0;  // of actions applied since the last job
  std::uint64_t next_subscriber_ = 1;
  std::map<std::uint64_t, std::shared_ptr<const Subscriber>> subscribers_;
  NodeMetrics counters_;

  std::vector<transport::Packet> sends_;
  std::vector<Completion> completions_;
};

}  // namespace conflux::detail
