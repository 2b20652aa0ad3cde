// The node engine (engine.hpp): events in, the Ready pipeline, applying
// committed entries, and subscribers. The life of a perform is in
// performs.cpp.
#include "engine.hpp"

#include <algorithm>
#include <boost/container/small_vector.hpp>

#include "snapshot_codec.hpp"

namespace conflux::detail {
namespace {

constexpr int ticks_per_heartbeat = 5;

int ticks(std::chrono::milliseconds span, std::chrono::milliseconds tick) {
  return static_cast<int>((span + tick - std::chrono::milliseconds(1)) / tick);
}

/// FNV-1a of `id`: the same in every build (std::hash is not: libstdc++ and
/// emscripten's libc++ differ), so a node's timeouts replay everywhere.
std::uint64_t id_hash(std::string_view id) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const unsigned char c : id) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

raft::Config raft_config(const Options& options, std::chrono::milliseconds tick) {
  raft::Config config;
  config.id = options.id;
  for (const auto& peer : options.peers) {
    if (options.join) continue;  // raft::Config: empty voters is join mode
    config.voters.push_back(peer.id);
    if (!peer.address.empty()) config.addresses[peer.id] = peer.address;
  }
  config.heartbeat_ticks = ticks_per_heartbeat;
  config.election_ticks_min =
      std::max(ticks(options.election_timeout.min, tick), ticks_per_heartbeat + 1);
  config.election_ticks_max =
      std::max(ticks(options.election_timeout.max, tick), config.election_ticks_min);
  if (options.read_lease.enabled) {
    // config.hpp: a follower's promise lasts at least election_ticks_min - 1
    // of its ticks; the lease counts fewer of the leader's, for drift.
    const double drift = options.read_lease.max_clock_drift;
    config.lease_ticks =
        static_cast<int>((config.election_ticks_min - 1) * (1 - drift) / (1 + drift));
  }
  if (const auto* redis = std::get_if<RedisChannelOptions>(&options.channel)) {
    // Redis queues what a subscriber has not read yet, up to its pubsub
    // limit: the window to one follower must stay below it.
    config.max_bytes_per_message = redis->max_in_flight_bytes / config.max_inflight_messages;
  }
  config.seed = options.seed != 0 ? options.seed : id_hash(options.id) | 1;
  config.trailing_entries = options.snapshot.trailing_entries;
  return config;
}

}  // namespace

std::chrono::milliseconds tick_interval(const Options& options) {
  return std::max(options.heartbeat_interval / ticks_per_heartbeat, std::chrono::milliseconds(1));
}

Engine::Engine(const Options& options, std::chrono::milliseconds tick, const raft::Storage& storage,
               std::uint64_t first_id, EngineHooks hooks)
    : id_(options.id),
      snapshot_policy_(options.snapshot),
      storage_(storage),
      methods_(options.methods),
      log_(options.log),
      hooks_(std::move(hooks)),
      raft_(std::make_unique<raft::Raft>(raft_config(options, tick), storage)),
      machine_(in_place(options)),
      next_id_(first_id),
      session_timeout_(options.session_timeout),
      tick_(tick),
      next_tick_(hooks_.now() + tick),
      lease_(raft_->config().lease_ticks > 0) {
  if (const auto snapshot = raft_->snapshot(); snapshot.index > 0) restore(snapshot);
  machine_.sync(raft_->log());
}

void Engine::tick() {
  const auto due = ticks_due(hooks_.now());
  if (due == 0) return;
  for (int i = 0; i < due; ++i) raft_->tick();
  ticks_ += static_cast<std::uint64_t>(due);
  expire(hooks_.now());
  tick_reads(hooks_.now());
  for (auto& [id, p] : pending_) p.refused_by.clear();
}

// Without a lease, one tick per call: the driver's timer paces them, and a
// process that was stopped sees time resume where it stopped, which delays
// timeouts and nothing else. A lease must not outlive its real duration, so
// with one, ticks follow the clock: those missed while the process was
// stopped are delivered before it handles anything else (receive, read),
// at most an election timeout's worth, past which every lease and timeout
// has run out anyway.
int Engine::ticks_due(Clock::time_point now) {
  if (!lease_) return 1;
  if (now < next_tick_) return 0;
  const auto cap = raft_->config().election_ticks_max + 1;
  const auto late = (now - next_tick_) / tick_;
  if (late >= cap) {
    next_tick_ = now + tick_;
    return cap;
  }
  next_tick_ += (late + 1) * tick_;
  return static_cast<int>(late + 1);
}

void Engine::catch_up() {
  if (lease_ && hooks_.now() >= next_tick_) tick();
}

void Engine::receive(transport::Packet packet) {
  catch_up();
  if (auto* message = std::get_if<raft::Message>(&packet)) return step(std::move(*message));
  auto& client = std::get<transport::ClientMessage>(packet);
  if (auto* request = std::get_if<transport::PerformRequest>(&client.body)) {
    serve_forwarded(client.from, *request);
  } else {
    on_reply(client.from, std::get<transport::PerformReply>(client.body));
  }
}

void Engine::step(raft::Message message) {
  const auto result = raft_->step(std::move(message));
  if (result.ok()) return;
  ++counters_.refused_messages[std::string(raft::to_string(result.error))];
  log_(LogLevel::warning, "refused " + result.reason);
}

std::optional<raft::Ready> Engine::next_ready() {
  if (!raft_->has_ready()) return std::nullopt;
  auto ready = raft_->ready();
  count_sent_snapshots(ready);
  on_read_states(ready.reads);
  return ready;
}

void Engine::persisted(const raft::Ready& ready) {
  // Several snapshots may have arrived whole in one Ready (a burst of
  // queued chunks after a restart): the storage keeps the newest two, and
  // the state machine needs only the last.
  const raft::SnapshotChunk* last = nullptr;
  for (const auto& chunk : ready.snapshot_chunks) {
    if (!chunk.done) continue;
    last = &chunk;
    ++counters_.snapshots_installed;
  }
  if (last) install(last->meta);
  // Every committed entry is in the log: after this, each one applies as
  // the first pending action, parsed once and never out of step.
  machine_.sync(raft_->log());
  for (const auto& entry : ready.committed) {
    on_applied(machine_.apply(entry));
    bytes_since_snapshot_ += entry.payload.size();
  }
  counters_.entries_applied += ready.committed.size();
  raft_->advance(ready);
  serve_reads();
  settle_observations();
}

void Engine::settle() {
  requeue_orphans();
  dispatch_waiting();
  check_forwarded();
  settle_transfers();
  machine_.sync(raft_->log());
}

void Engine::fail_all(errc code, const std::string& message) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, p] : pending_) ids.push_back(id);
  for (const auto id : ids) fail(id, code, message);
  fail_reads(code, message);
  observations_.clear();  // their performs failed above; forwarders hear nothing
}

std::vector<transport::Packet> Engine::take_sends() {
  return std::exchange(sends_, {});
}

std::vector<Completion> Engine::take_completions() {
  return std::exchange(completions_, {});
}

void Engine::on_applied(AppliedAction applied) {
  if (!applied.no_op && applied.reducer_error.empty() && !applied.action.is_null())
    notify(applied.action);
  remember_reducer_error(applied);
  on_session_applied(applied);
  const auto [first, last] = by_index_.equal_range(applied.index);
  boost::container::small_vector<std::uint64_t, 4> ids;  // usually one waiter, or none
  for (auto it = first; it != last; ++it) ids.push_back(it->second);
  by_index_.erase(first, last);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto id = ids[i];
    if (!pending_.count(id)) continue;  // answered by its session
    const auto& waiting = pending_.at(id);
    if (waiting.seq != 0) {
      settle_from_sessions(id);  // another entry took its place: sent again
    } else if (waiting.term != applied.term) {
      fail(id, errc::leadership_lost,
           "leadership changed before the action was committed, and it was lost; retry");
    } else if (!applied.reducer_error.empty()) {
      fail(id, errc::reducer_failed, applied.reducer_error);
    } else {
      // The last waiter takes the action itself: nothing reads it after.
      complete(id, i + 1 == ids.size() ? std::move(applied.action) : applied.action);
    }
  }
}

// A forwarded perform's answer can arrive after its entry was applied here;
// settle_applied_early() then needs to know whether the reducer refused it.
void Engine::remember_reducer_error(const AppliedAction& applied) {
  constexpr raft::Index window = 4096;  // answers arrive long before this many entries apply
  if (!applied.reducer_error.empty()) reducer_errors_[applied.index] = applied.reducer_error;
  if (applied.index > window)
    reducer_errors_.erase(reducer_errors_.begin(),
                          reducer_errors_.lower_bound(applied.index - window));
}

std::uint64_t Engine::subscribe(Subscriber callback) {
  const auto id = next_subscriber_++;
  subscribers_.emplace(id, std::make_shared<const Subscriber>(std::move(callback)));
  return id;
}

void Engine::unsubscribe(std::uint64_t id) {
  subscribers_.erase(id);
}

// node.hpp: after unsubscribe() returns, a callback never runs again, even
// when another callback of the same commit unsubscribed it. So the map is
// looked up afresh for each callback; a subscriber added meanwhile (a larger
// id) waits for the next commit. The running callback is held by its own
// pointer, so that it may unsubscribe itself.
void Engine::notify(const boost::json::value& action) {
  if (subscribers_.empty()) return;
  const auto last = subscribers_.rbegin()->first;
  for (auto it = subscribers_.begin(); it != subscribers_.end() && it->first <= last;) {
    const auto id = it->first;
    const auto callback = it->second;
    try {
      (*callback)(machine_.committed(), action);
    } catch (const std::exception& error) {
      log_(LogLevel::warning, std::string("a subscriber threw: ") + error.what());
    } catch (...) {
      log_(LogLevel::warning, "a subscriber threw a non-standard exception");
    }
    it = subscribers_.upper_bound(id);
  }
}

}  // namespace conflux::detail
