#pragma once
// Options of a Conflux node, validated when the node is built: every invalid
// combination is refused with a message naming the option and the rule.

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <conflux/storage/file_storage.hpp>
#include <conflux/transport/tls.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace conflux::transport {
class InProcessNetwork;
}

namespace conflux {

/// An action creator: runs on the leader against its provisional state with
/// the perform's arguments. Returns the action to append, or null to append
/// nothing; throws (conflux::Rejection or any exception) to refuse the call,
/// and the caller receives the exception's message.
using Method = std::function<boost::json::value(const boost::json::value& state,
                                                const boost::json::array& args)>;

/// Returns the state after `action`. Must not modify its inputs, must build
/// the initial state when `state` is null, and must return the state
/// unchanged for an unknown or null action. Must be deterministic: every
/// node runs it on every committed action.
using Reducer = std::function<boost::json::value(const boost::json::value& state,
                                                 const boost::json::value& action)>;

/// The same reducer updating `state` in place, for large states: an action
/// then costs what it changes, where a Reducer copies the whole state to
/// return the next one (twice per action and node: the committed and the
/// provisional state). Same rules as Reducer (build the initial state from
/// null, leave it unchanged for an unknown or null action, deterministic),
/// plus the strong guarantee: when it throws, `state` must be exactly as it
/// was (check everything, then change).
using InPlaceReducer =
    std::function<void(boost::json::value& state, const boost::json::value& action)>;

enum class LogLevel { error, warning, info, debug };
std::string_view to_string(LogLevel level);

/// Receives one line per notable event. error: the node stopped
/// acknowledging (storage failed, an internal failure); warning: connection
/// problems, refused messages, a throwing subscriber; info: role changes.
using LogSink = std::function<void(LogLevel level, std::string_view line)>;

struct Peer {
  std::string id;
  std::string address;  ///< "host:port" for TCP; unused in-process
};

/// Nodes in one process, joined by an InProcessNetwork (tests, embedded use).
struct InProcessChannelOptions {
  transport::InProcessNetwork* network = nullptr;
};

/// Nodes in separate processes or machines, joined by the TCP mesh.
struct TcpChannelOptions {
  std::string listen;               ///< "host:port" this node listens on
  std::string cluster = "conflux";  ///< peers must agree on it
  /// TLS with mutual authentication (transport/tls.hpp): every member's
  /// certificate, signed by `tls.authority`, must name its id. Unset:
  /// plaintext, and whoever reaches `listen` may speak as any member.
  transport::TlsFiles tls = {};
};

/// Nodes joined through a WebSocket hub (transport/ws_hub.hpp), e.g.
/// conflux-hub or a conflux-node started with --ws-hub.
struct WebSocketChannelOptions {
  std::string hub;  ///< "ws://host:port/<cluster>" or "wss://host:port/<cluster>"
  /// The cluster's token, for a hub that requires one (conflux-hub
  /// --token-file; docs/protocol.md §7.1). Over ws:// it travels in clear.
  std::string token = {};
  /// wss:// only: the hub's certificate must be of `tls.authority` (else of
  /// the system's trusted authorities) and name the URL's host; this node
  /// presents its own certificate when given.
  transport::TlsFiles tls = {};
};

/// Nodes that find each other through a redis-server's pub/sub
/// (transport/redis_channel.hpp): each needs only the Redis URL. Redis does
/// not authenticate publishers: whoever may PUBLISH on it can send to the
/// nodes, so restrict its users (ACLs) to the cluster's channels.
struct RedisChannelOptions {
  std::string url;                  ///< redis://[[user]:password@]host[:port][/db]
  std::string cluster = "conflux";  ///< clusters on one Redis are apart by name
  /// At most about this many bytes of Raft messages in flight to one
  /// follower (each message is capped at 1/64 of it; an entry larger than
  /// that still goes, alone). Keep it below redis-server's pubsub
  /// client-output-buffer-limit (8 MB soft, 32 MB hard by default): Redis
  /// cuts off a subscriber whose unread messages pass the limit, and a
  /// follower catching up would be cut off again and again. At least 64 KiB.
  std::size_t max_in_flight_bytes = 4 << 20;
};

/// How a node reaches its peers: one of the four channels. The first
/// alternative means "not chosen yet", which validate() refuses.
using ChannelOptions = std::variant<std::monostate, InProcessChannelOptions, TcpChannelOptions,
                                    WebSocketChannelOptions, RedisChannelOptions>;

namespace reserved {
/// The methods behind Node's membership calls, run by the leader's engine
/// (lib/src/engine/membership.cpp); their arguments are [id, address,
/// as_learner], [id], [id] and [id]. No user method may start with
/// "conflux.".
inline constexpr std::string_view method_add_member = "conflux.add_member";
inline constexpr std::string_view method_remove_member = "conflux.remove_member";
inline constexpr std::string_view method_promote = "conflux.promote";
inline constexpr std::string_view method_transfer_leadership = "conflux.transfer_leadership";
/// Opens a client session (thesis §6.3; lib/src/engine/sessions.hpp) that
/// stays open while idle for at most [timeout_ms]; completes with its id.
inline constexpr std::string_view method_open_session = "conflux.open_session";
}  // namespace reserved

/// A perform's place in a client session of the caller's own (Node::
/// open_session), for a caller that may send one request to several nodes,
/// such as an HTTP client retrying after a lost reply: every node answers
/// (client, seq) with the outcome of its one application. `ack` is the
/// lowest sequence number whose answer the caller has not yet received
/// (0: none acknowledged); answers below it are forgotten.
struct SessionCall {
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
  std::uint64_t ack = 0;
};

struct Options {
  std::string id;
  /// The bootstrap configuration: every node of a new cluster, this one
  /// included. Used only until the log records a configuration (the first
  /// leader does); after that the log says who the members are, and a
  /// restart with another list follows the log (thesis §4.1).
  std::vector<Peer> peers;
  /// Join mode: this node starts with no configuration, never campaigns,
  /// and waits for an existing cluster to add it (Node::add_member on any
  /// member). `peers` then lists this node (its address is the one it
  /// listens on) and may list members to reach; they bootstrap nothing.
  bool join = false;
  /// Must be set: options.channel = TcpChannelOptions{"0.0.0.0:7001", "prod"};
  ChannelOptions channel;

  std::map<std::string, Method> methods;
  /// Exactly one of the two must be set.
  Reducer reduce;
  InPlaceReducer reduce_in_place;

  struct ElectionTimeout {
    std::chrono::milliseconds min{300};
    std::chrono::milliseconds max{500};
  } election_timeout;
  std::chrono::milliseconds heartbeat_interval{50};
  /// Default timeout of perform(); a perform may pass its own.
  std::chrono::milliseconds perform_timeout{10000};
  /// How long this node's client session (thesis §6.3) may stay idle
  /// before the cluster forgets it, by the leaders' clocks. An idle node's
  /// session expiring costs nothing: its next perform opens another.
  std::chrono::milliseconds session_timeout{std::chrono::hours(1)};
  /// Lease reads (thesis §6.4.1): Node::linearizable_state() on a leader
  /// that a quorum answered recently is served at once, with no heartbeat
  /// round, for up to election_timeout.min x (1 - drift) / (1 + drift)
  /// after the round it answered was sent. Correct only if no node's clock
  /// runs faster than another's by more than max_clock_drift, and if no
  /// clock skips time (steady_clock stops while a machine is suspended or
  /// a VM is frozen by its host). Set it alike on every node: followers
  /// keep the lease by refusing votes (check-quorum). Off: every read costs
  /// a round (ReadIndex), which assumes nothing about clocks.
  struct ReadLease {
    bool enabled = false;
    double max_clock_drift = 0.1;  ///< in [0, 0.5)
  } read_lease;
  /// Seeds the election-timeout draws; 0 derives one from the id (the same
  /// natively and in WebAssembly).
  std::uint64_t seed = 0;

  /// Durable storage in this directory (write-ahead log + hard state; see
  /// docs/storage.md). Unset: in memory, lost when the process ends.
  std::optional<std::filesystem::path> data_dir;
  /// With data_dir: fsync before acknowledging (always, the default), or
  /// never (unsafe, for benchmarks).
  storage::FsyncPolicy fsync = storage::FsyncPolicy::always;

  /// When the node snapshots its state and compacts its log (Raft §7;
  /// docs/storage.md): once this many entries were applied since the last
  /// snapshot, or once their actions hold this many bytes, whichever comes
  /// first. 0 disables a threshold; with both 0, snapshots are taken only on
  /// request (Node::request_snapshot()) and the log grows until then. The snapshot
  /// is written on a worker thread from a copy of the state, so the node
  /// keeps committing meanwhile.
  struct SnapshotPolicy {
    std::uint64_t entries = 100'000;
    std::uint64_t bytes = 64 << 20;
    /// Entries kept before the snapshot's index, so that a follower slightly
    /// behind is still fed from the log rather than sent the snapshot.
    std::uint64_t trailing_entries = 1024;
  } snapshot;

  /// Where the node's log lines go. Unset: warnings and errors to standard
  /// error, each prefixed with the node's id.
  LogSink log;

  /// Empty when valid; otherwise one message per problem.
  std::vector<std::string> validate() const;
};

}  // namespace conflux
