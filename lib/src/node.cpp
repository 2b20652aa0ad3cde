// conflux::Node: construction, the owner coroutine that drives the Raft
// core (events in, then Ready out: persist, send, apply), and close().
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/container/small_vector.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <conflux/transport/tcp_mesh.hpp>
#include <conflux/transport/ws_channel.hpp>
#include <functional>
#include <iostream>
#include <random>
#include <stdexcept>

#include "node_impl.hpp"
#include "volatile_storage.hpp"

namespace conflux {
namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr int ticks_per_heartbeat = 5;

// Warnings and errors to standard error, prefixed with the node's id.
LogSink default_log(const std::string& id) {
  return [id](LogLevel level, std::string_view line) {
    if (level > LogLevel::warning) return;
    std::cerr << "[conflux " << id << "] " << to_string(level) << ": " << line << '\n';
  };
}

Options validated(Options options) {
  const auto errors = options.validate();
  if (errors.empty()) {
    if (!options.log) options.log = default_log(options.id);
    return options;
  }
  std::string message = "invalid conflux options: ";
  for (std::size_t i = 0; i < errors.size(); ++i) message += (i ? "; " : "") + errors[i];
  throw std::invalid_argument(message);
}

int ticks(std::chrono::milliseconds span, std::chrono::milliseconds tick) {
  return static_cast<int>((span + tick - std::chrono::milliseconds(1)) / tick);
}

raft::Config raft_config(const Options& options, std::chrono::milliseconds tick) {
  raft::Config config;
  config.id = options.id;
  for (const auto& peer : options.peers) config.voters.push_back(peer.id);
  config.heartbeat_ticks = ticks_per_heartbeat;
  config.election_ticks_min =
      std::max(ticks(options.election_timeout.min, tick), ticks_per_heartbeat + 1);
  config.election_ticks_max =
      std::max(ticks(options.election_timeout.max, tick), config.election_ticks_min);
  config.seed = options.seed != 0 ? options.seed : std::hash<std::string>{}(options.id) | 1;
  return config;
}

std::unique_ptr<transport::Channel> make_channel(const Options& options, asio::any_io_executor ex,
                                                 transport::InboxHandler inbox) {
  std::vector<raft::NodeId> ids;
  for (const auto& peer : options.peers) ids.push_back(peer.id);
  if (options.in_process) {
    return std::make_unique<transport::InProcessChannel>(*options.in_process->network, options.id,
                                                         ids, ex, std::move(inbox));
  }
  const auto log = [log = options.log](std::string_view line) { log(LogLevel::warning, line); };
  if (options.websocket) {
    transport::WsChannelConfig config;
    config.id = options.id;
    config.hub = options.websocket->hub;
    for (const auto& id : ids) {
      if (id != options.id) config.peers.push_back(id);
    }
    config.log = log;
    return std::make_unique<transport::WsChannel>(ex, std::move(config), std::move(inbox));
  }
  transport::TcpMeshConfig config;
  config.id = options.id;
  config.cluster = options.tcp->cluster;
  config.listen = options.tcp->listen;
  for (const auto& peer : options.peers) config.peers[peer.id] = peer.address;
  config.log = log;
  return std::make_unique<transport::TcpMesh>(ex, std::move(config), std::move(inbox));
}

}  // namespace

Node::Impl::Impl(asio::any_io_executor ex, Options opts)
    : executor(ex),
      options(validated(std::move(opts))),
      machine(detail::in_place(options)),
      wake(ex, asio::steady_timer::time_point::max()),
      tick_timer(ex),
      tick_interval(std::max(options.heartbeat_interval / ticks_per_heartbeat,
                             std::chrono::milliseconds(1))) {
  if (options.data_dir) {
    auto durable = std::make_unique<storage::FileStorage>(storage::FileStorageOptions{
        .directory = *options.data_dir,
        .segment_bytes = 64 << 20,
        .fsync = options.fsync,
        .log = [log = options.log](const std::string& line) { log(LogLevel::warning, line); },
        .ops = {}});
    file = durable.get();
    store = std::move(durable);
    worker = std::make_unique<detail::SyncWorker>();
  } else {
    store = std::make_unique<detail::VolatileStorage>();
  }
  raft = std::make_unique<raft::Raft>(raft_config(options, tick_interval), *store);
  std::random_device entropy;
  next_id = ((std::uint64_t{entropy()} << 20) ^ entropy()) % (raft::max_wire_integer / 2) + 1;
  machine.sync(raft->log());
}

void Node::Impl::post_event(detail::Event event) {
  if (closing && std::holds_alternative<detail::PerformCall>(event)) {
    if (auto* call = std::get_if<detail::PerformCall>(&event)) {
      auto handler = std::move(call->handler);
      auto error = std::make_exception_ptr(Error(errc::closed, "the node is closed"));
      asio::post(executor,
                 [h = std::move(handler), error]() mutable { std::move(h)(error, nullptr); });
    }
    return;
  }
  events.push_back(std::move(event));
  wake.cancel();
}

// The owner: takes every queued event, feeds it to the core, then drains the
// core's Ready. Batching events before a Ready batches proposals and sends.
asio::awaitable<void> Node::Impl::owner() {
  while (!closing || syncing) {  // a sync in flight is finished even when closing
    if (events.empty()) {
      wake.expires_at(asio::steady_timer::time_point::max());
      co_await wake.async_wait(as_tuple_awaitable);
      continue;
    }
    auto batch = std::move(events);
    events.clear();
    try {
      for (auto& event : batch) handle(event);
      drain_ready();
      dispatch_waiting();
      check_forwarded();
      drain_ready();
    } catch (const std::exception& error) {
      fail_everything(error.what());
    } catch (...) {
      fail_everything("a non-standard exception");
    }
    report_role_change();
    // User code (a method, a subscriber) may have queued more work: let the
    // executor run completions, ticks and close() before the next round.
    if (!events.empty()) co_await asio::post(executor, asio::use_awaitable);
  }
}

// Logs (info) each change of role, term or known leader.
void Node::Impl::report_role_change() {
  const auto role = raft->role();
  const auto term = raft->term();
  const auto& leader = raft->leader();
  if (role == seen.role && term == seen.term && leader == seen.leader) return;
  seen = {role, term, leader};
  std::string line = std::string(raft::to_string(role)) + " in term " + std::to_string(term);
  if (role != raft::Role::leader)
    line += leader.empty() ? ", leader unknown" : ", leader " + leader;
  options.log(LogLevel::info, line);
}

// A bug or resource failure escaped the owner's round: rather than end the
// owner (and strand every pending perform), fail what is pending and stop
// acknowledging, like a storage failure.
void Node::Impl::fail_everything(const std::string& why) {
  storage_failed("internal error: " + why);
  std::vector<std::uint64_t> ids;
  for (const auto& [id, p] : pending) ids.push_back(id);
  for (const auto id : ids) fail(id, errc::closed, "the node failed: " + why);
}

asio::awaitable<void> Node::Impl::ticker() {
  while (!closing) {
    tick_timer.expires_after(tick_interval);
    auto [ec] = co_await tick_timer.async_wait(as_tuple_awaitable);
    if (ec || closing) co_return;
    post_event(detail::Tick{});
  }
}

void Node::Impl::handle(detail::Event& event) {
  if (std::holds_alternative<detail::Tick>(event)) {
    raft->tick();
    expire(Clock::now());
    for (auto& [id, p] : pending) p.refused_by.clear();
  } else if (auto* call = std::get_if<detail::PerformCall>(&event)) {
    accept_call(std::move(*call));
  } else if (auto* done = std::get_if<detail::SyncDone>(&event)) {
    on_sync_done(*done);
  } else if (auto* packet = std::get_if<transport::Packet>(&event)) {
    if (isolated) return;
    if (auto* message = std::get_if<raft::Message>(packet)) {
      const auto result = raft->step(std::move(*message));
      if (!result.ok()) {
        ++counters.refused_messages[std::string(raft::to_string(result.error))];
        options.log(LogLevel::warning, "refused " + result.reason);
      }
    } else {
      auto& client = std::get<transport::ClientMessage>(*packet);
      if (auto* request = std::get_if<transport::PerformRequest>(&client.body)) {
        serve_forwarded(client.from, *request);
      } else {
        on_reply(client.from, std::get<transport::PerformReply>(client.body));
      }
    }
  }
}

// The Ready contract (ready.hpp): send the early messages, persist, send
// the rest once durable, apply, advance. With durable storage the write
// happens here and the fdatasync on the worker; meanwhile the owner keeps
// taking events (the core accepts steps between ready() and advance()), and
// they join the next Ready: group commit.
void Node::Impl::drain_ready() {
  while (!syncing && storage_error.empty() && raft->has_ready()) {
    raft::Ready ready = raft->ready();
    for (auto& message : ready.early_messages) send(std::move(message));
    try {
      if (ready.hard_state) store->save_hard_state(*ready.hard_state);
      store->append(ready.entries);
    } catch (const std::exception& error) {  // StorageError, filesystem_error, bad_alloc
      return storage_failed(error.what());
    }
    if (file && !ready.entries.empty()) {
      syncing = std::move(ready);
      worker->submit([file = file, ex = executor, weak = weak_from_this()] {
        std::exception_ptr error;
        const auto start = Clock::now();
        try {
          file->sync();
        } catch (...) {
          error = std::current_exception();
        }
        const std::chrono::duration<double> took = Clock::now() - start;
        asio::post(ex, [weak, error, seconds = took.count()] {
          if (auto self = weak.lock()) self->post_event(detail::SyncDone{error, seconds});
        });
      });
      break;
    }
    finish_ready(ready);
  }
  machine.sync(raft->log());
}

void Node::Impl::finish_ready(raft::Ready& ready) {
  for (auto& message : ready.messages) send(std::move(message));
  // Every committed entry is in the log: after this, each one applies as
  // the first pending action, parsed once and never out of step.
  machine.sync(raft->log());
  for (const auto& entry : ready.committed) on_applied(machine.apply(entry));
  counters.entries_applied += ready.committed.size();
  raft->advance(ready);
}

void Node::Impl::send(transport::Packet packet) {
  if (!isolated) channel->send(std::move(packet));
}

void Node::Impl::on_sync_done(const detail::SyncDone& done) {
  if (!syncing) return;
  counters.fsync_latency.observe(done.seconds);
  if (done.error) {
    try {
      std::rethrow_exception(done.error);
    } catch (const std::exception& error) {
      return storage_failed(error.what());
    }
  }
  auto ready = std::move(*syncing);
  syncing.reset();
  finish_ready(ready);
}

// Nothing written after a storage failure is acknowledged: the Ready is
// never finished, so no vote or acknowledgement leaves and nothing is
// applied; the node keeps its state and reports the error.
void Node::Impl::storage_failed(const std::string& what) {
  syncing.reset();
  storage_error = what;
  options.log(LogLevel::error, "storage failed, no longer acknowledging writes: " + what);
}

void Node::Impl::on_applied(detail::AppliedAction applied) {
  if (!applied.no_op && applied.reducer_error.empty() && !applied.action.is_null())
    notify(applied.action);
  remember_reducer_error(applied);
  const auto [first, last] = by_index.equal_range(applied.index);
  boost::container::small_vector<std::uint64_t, 4> ids;  // usually one waiter, or none
  for (auto it = first; it != last; ++it) ids.push_back(it->second);
  by_index.erase(first, last);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto id = ids[i];
    const auto& waiting = pending.at(id);
    if (waiting.term != applied.term) {
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
void Node::Impl::remember_reducer_error(const detail::AppliedAction& applied) {
  constexpr raft::Index window = 4096;  // answers arrive long before this many entries apply
  if (!applied.reducer_error.empty()) reducer_errors[applied.index] = applied.reducer_error;
  if (applied.index > window)
    reducer_errors.erase(reducer_errors.begin(),
                         reducer_errors.lower_bound(applied.index - window));
}

// node.hpp: after unsubscribe() returns, a callback never runs again, even
// when another callback of the same commit unsubscribed it. So the map is
// looked up afresh for each callback; a subscriber added meanwhile (a larger
// id) waits for the next commit. The running callback is held by its own
// pointer, so that it may unsubscribe itself.
void Node::Impl::notify(const boost::json::value& action) {
  if (subscribers.empty()) return;
  const auto last = subscribers.rbegin()->first;
  for (auto it = subscribers.begin(); it != subscribers.end() && it->first <= last;) {
    const auto id = it->first;
    const auto callback = it->second;
    try {
      (*callback)(machine.committed(), action);
    } catch (const std::exception& error) {
      options.log(LogLevel::warning, std::string("a subscriber threw: ") + error.what());
    } catch (...) {
      options.log(LogLevel::warning, "a subscriber threw a non-standard exception");
    }
    it = subscribers.upper_bound(id);
  }
}

// Performs still in the event queue never reached `pending`: fail them too.
void Node::Impl::fail_queued_calls() {
  for (auto& event : events) {
    if (auto* call = std::get_if<detail::PerformCall>(&event)) {
      auto error = std::make_exception_ptr(
          Error(errc::closed, "the node was closed before the perform completed"));
      asio::post(executor,
                 [h = std::move(call->handler), error]() mutable { std::move(h)(error, nullptr); });
    }
  }
  events.clear();
}

void Node::Impl::finish_close() {
  if (--tasks == 0) release_close_waiters();
}

void Node::Impl::release_close_waiters() {
  for (auto& waiter : close_waiters) asio::post(executor, std::move(waiter));
  close_waiters.clear();
}

Node::Node(asio::any_io_executor executor, Options options)
    : impl_(std::make_shared<Impl>(executor, std::move(options))) {
  auto impl = impl_;
  impl->channel =
      make_channel(impl->options, executor, [weak = std::weak_ptr(impl)](transport::Packet packet) {
        if (auto self = weak.lock()) self->post_event(std::move(packet));
      });
  impl->tasks = 3;
  const auto done = [impl](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        impl->options.log(LogLevel::error, std::string("task failed: ") + e.what());
      } catch (...) {
        impl->options.log(LogLevel::error, "task failed");
      }
    }
    impl->finish_close();
  };
  asio::co_spawn(executor, impl->owner(), done);
  asio::co_spawn(executor, impl->ticker(), done);
  asio::co_spawn(executor, impl->channel->run(), done);
}

Node::~Node() {
  if (impl_) start_close(impl_, {});  // idempotent; checked on the executor
}

std::chrono::milliseconds Node::default_timeout() const {
  return impl_->options.perform_timeout;
}

void Node::start_perform(const std::shared_ptr<Impl>& impl, std::string method,
                         boost::json::array args, std::chrono::milliseconds timeout,
                         PerformHandler handler) {
  const auto now = Clock::now();
  detail::PerformCall call{std::move(method), std::move(args), now, now + timeout,
                           std::move(handler)};
  asio::dispatch(impl->executor,
                 [impl, c = std::move(call)]() mutable { impl->post_event(std::move(c)); });
}

// Stops accepting work, fails what is pending, closes the channel and wakes
// the owner and the ticker so that all three coroutines end.
void Node::start_close(const std::shared_ptr<Impl>& impl,
                       asio::any_completion_handler<CloseSignature> handler) {
  asio::dispatch(impl->executor, [impl, h = std::move(handler)]() mutable {
    if (h) impl->close_waiters.push_back(std::move(h));
    if (impl->tasks == 0) return impl->release_close_waiters();
    if (impl->closing) return;
    impl->closing = true;
    std::vector<std::uint64_t> ids;
    for (const auto& [id, p] : impl->pending) ids.push_back(id);
    for (const auto id : ids)
      impl->fail(id, errc::closed, "the node was closed before the perform completed");
    impl->fail_queued_calls();
    impl->channel->close();
    impl->wake.cancel();
    impl->tick_timer.cancel();
  });
}

const boost::json::value& Node::state() const {
  return impl_->machine.committed();
}
const boost::json::value& Node::provisional_state() const {
  return impl_->machine.provisional();
}

Subscription Node::subscribe(Subscriber callback) {
  const auto id = impl_->next_subscriber++;
  impl_->subscribers.emplace(id, std::make_shared<const Subscriber>(std::move(callback)));
  return Subscription([weak = std::weak_ptr(impl_), id] {
    if (auto impl = weak.lock()) impl->subscribers.erase(id);
  });
}

NodeStatus Node::status() const {
  const auto s = impl_->raft->status();
  NodeStatus status{.id = s.id,
                    .role = std::string(raft::to_string(s.role)),
                    .term = s.term,
                    .leader = s.leader,
                    .commit = s.commit,
                    .applied = s.applied,
                    .last_index = s.last_index,
                    .error = impl_->storage_error,
                    .peers = {},
                    .isolated = impl_->isolated};
  for (const auto& traffic : impl_->channel->status()) {
    PeerProgress peer{.id = traffic.id, .connected = traffic.connected, .match = std::nullopt};
    for (const auto& progress : s.peers) {
      if (progress.id == traffic.id) peer.match = progress.match;
    }
    status.peers.push_back(std::move(peer));
  }
  return status;
}

std::vector<LogEntryView> Node::log_tail(std::size_t count) const {
  const auto& log = impl_->raft->log();
  const auto commit = impl_->raft->commit();
  const auto last = log.last_index();
  const auto first = std::max(log.first_index(), last >= count ? last - count + 1 : 1);
  std::vector<LogEntryView> tail;
  for (auto index = first; index <= last; ++index) {
    const auto& entry = log.at(index);
    tail.push_back(LogEntryView{.index = entry.index,
                                .term = entry.term,
                                .committed = entry.index <= commit,
                                .action = entry.type == raft::EntryType::normal
                                              ? std::string(entry.payload.view())
                                              : std::string()});
  }
  return tail;
}

void Node::set_isolated(bool isolated) {
  impl_->isolated = isolated;
}

NodeMetrics Node::metrics() const {
  const auto s = impl_->raft->status();
  NodeMetrics metrics = impl_->counters;
  metrics.elections = s.elections;
  metrics.leaderships = s.leaderships;
  for (const auto& traffic : impl_->channel->status()) {
    PeerTraffic peer{.id = traffic.id,
                     .connected = traffic.connected,
                     .bytes_in = traffic.bytes_in,
                     .bytes_out = traffic.bytes_out,
                     .frames_in = traffic.frames_in,
                     .frames_out = traffic.frames_out,
                     .dropped = {}};
    for (std::size_t i = 0; i < transport::drop_reason_count; ++i) {
      const auto reason = static_cast<transport::DropReason>(i);
      peer.dropped[std::string(transport::to_string(reason))] = traffic.dropped_for(reason);
    }
    metrics.peers.push_back(std::move(peer));
  }
  return metrics;
}

}  // namespace conflux
