// conflux::Node: construction, the owner coroutine that drives the Raft
// core (events in, then Ready out: persist, send, apply), and close().
#include <algorithm>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <conflux/transport/awaitable.hpp>
#include <conflux/transport/memory_channel.hpp>
#include <conflux/transport/redis_channel.hpp>
#include <conflux/transport/tcp_mesh.hpp>
#include <conflux/transport/ws_channel.hpp>
#include <functional>
#include <iostream>
#include <random>
#include <stdexcept>

#include "node_impl.hpp"
#include "snapshot_codec.hpp"
#include "volatile_storage.hpp"

namespace conflux {

using transport::as_tuple_awaitable;
namespace {

/// Readys written but not yet durable. Beyond this many the core gathers
/// the work into fewer, larger Readys until a sync returns.
constexpr std::size_t max_writing = 64;

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

std::unique_ptr<transport::Channel> make_channel(const Options& options, asio::any_io_executor ex,
                                                 transport::InboxHandler inbox) {
  std::vector<raft::NodeId> ids;
  for (const auto& peer : options.peers) ids.push_back(peer.id);
  if (auto* in_process = std::get_if<InProcessChannelOptions>(&options.channel)) {
    return std::make_unique<transport::InProcessChannel>(*in_process->network, options.id, ids, ex,
                                                         std::move(inbox));
  }
  const auto log = [log = options.log](std::string_view line) { log(LogLevel::warning, line); };
  if (auto* websocket = std::get_if<WebSocketChannelOptions>(&options.channel)) {
    transport::WsChannelConfig config;
    config.id = options.id;
    config.hub = websocket->hub;
    config.token = websocket->token;
    config.tls = websocket->tls;
    for (const auto& id : ids) {
      if (id != options.id) config.peers.push_back(id);
    }
    config.log = log;
    return std::make_unique<transport::WsChannel>(ex, std::move(config), std::move(inbox));
  }
  if (auto* redis = std::get_if<RedisChannelOptions>(&options.channel)) {
    transport::RedisChannelConfig config;
    config.id = options.id;
    config.url = redis->url;
    config.cluster = redis->cluster;
    for (const auto& id : ids) {
      if (id != options.id) config.peers.push_back(id);
    }
    config.log = log;
    return std::make_unique<transport::RedisChannel>(ex, std::move(config), std::move(inbox));
  }
  const auto& tcp = std::get<TcpChannelOptions>(options.channel);  // validated: one is set
  transport::TcpMeshConfig config;
  config.id = options.id;
  config.cluster = tcp.cluster;
  config.listen = tcp.listen;
  config.tls = tcp.tls;
  for (const auto& peer : options.peers) config.peers[peer.id] = peer.address;
  config.log = log;
  return std::make_unique<transport::TcpMesh>(ex, std::move(config), std::move(inbox));
}

// A random first perform id per run: a stale reply cannot match a new perform.
std::uint64_t random_first_id() {
  std::random_device entropy;
  return ((std::uint64_t{entropy()} << 20) ^ entropy()) % (raft::max_wire_integer / 2) + 1;
}

std::uint64_t wall_clock_ms() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  return ms > 0 ? static_cast<std::uint64_t>(ms) : 0;  // a clock set before 1970 says 0
}

}  // namespace

// Handlers move in and out by swap(): Boost 1.81's move assignment of
// any_completion_handler wraps its source instead of taking it, and recurses
// until the stack overflows.
void detail::HandlerTable::put(std::uint64_t id, PerformHandler handler) {
  if (id < base_) return;  // cannot happen: ids only grow
  if (id - base_ >= slots_.size()) slots_.resize(id - base_ + 1);
  slots_[id - base_].swap(handler);
}

PerformHandler detail::HandlerTable::take(std::uint64_t id) {
  PerformHandler handler;
  if (id < base_ || id - base_ >= slots_.size()) return handler;
  handler.swap(slots_[id - base_]);
  while (!slots_.empty() && !slots_.front()) {
    slots_.pop_front();
    ++base_;
  }
  if (slots_.empty()) base_ = std::max(base_, id + 1);
  return handler;
}

Node::Impl::Impl(asio::any_io_executor ex, Options opts)
    : Impl(ex, validated(std::move(opts)), random_first_id()) {}

Node::Impl::Impl(asio::any_io_executor ex, Options opts, std::uint64_t first_id)
    : executor(ex),
      options(std::move(opts)),
      wake(ex, asio::steady_timer::time_point::max()),
      tick_timer(ex),
      tick_interval(detail::tick_interval(options)),
      handlers(first_id) {
  if (options.data_dir) {
    store = std::make_unique<storage::FileStorage>(storage::FileStorageOptions{
        .directory = *options.data_dir,
        .segment_bytes = 64 << 20,
        .fsync = options.fsync,
        .log = [log = options.log](const std::string& line) { log(LogLevel::warning, line); },
        .ops = {}});
    durable = true;
    worker = std::make_unique<detail::SyncWorker>();
  } else {
    store = std::make_unique<detail::VolatileStorage>();
  }
  engine = std::make_unique<detail::Engine>(
      options, tick_interval, *store, first_id,
      detail::EngineHooks{.reachable = [this](const raft::NodeId& peer) { return reachable(peer); },
                          .now = [] { return Clock::now(); },
                          .wall_clock = [] { return wall_clock_ms(); }});
}

void Node::Impl::post_event(detail::Event event) {
  if (auto* call = std::get_if<detail::PerformCall>(&event); call && closing) {
    return refuse(*call, "the node is closed");
  }
  events.push_back(std::move(event));
  wake.cancel();
}

// The owner: takes every queued event and runs one round of the engine
// with them, then carries out what it asked for. Batching events before a
// Ready batches proposals and sends.
asio::awaitable<void> Node::Impl::owner() {
  while (!closing || syncs_started != syncs_done) {  // a sync in flight ends even when closing
    if (events.empty()) {
      wake.expires_at(asio::steady_timer::time_point::max());
      co_await wake.async_wait(as_tuple_awaitable);
      continue;
    }
    auto batch = std::move(events);
    events.clear();
    try {
      round(batch);
      carry_out();
      start_snapshot();
    } catch (const std::exception& error) {
      fail_round(batch, error.what());
    } catch (...) {
      fail_round(batch, "a non-standard exception");
    }
    report_role_change();
    // User code (a method, a subscriber) may have queued more work: let the
    // executor run completions, ticks and close() before the next round.
    if (!events.empty()) co_await asio::post(executor, asio::use_awaitable);
  }
}

// engine.hpp: events, then the Readys, then settle, then the Readys it made.
// Each event is taken from the batch as it is handled, so that after an
// exception the batch holds only what was not handled.
void Node::Impl::round(std::deque<detail::Event>& batch) {
  while (!batch.empty()) {
    auto event = std::move(batch.front());
    batch.pop_front();
    handle(event);
  }
  follow_configuration();
  drain_ready();
  engine->settle();
  follow_configuration();
  drain_ready();
}

// Thesis §4.1: the channel links to the members of the newest configuration
// in the log, committed or not, at the addresses it records; until the log
// records one, to the bootstrap peers (or, in join mode, to whoever calls).
void Node::Impl::follow_configuration() {
  const auto& config = engine->raft().configuration();
  if (config == followed || config.empty()) return;
  followed = config;
  std::map<raft::NodeId, std::string> members;
  for (const auto& id : config.members()) {
    const auto address = config.addresses.find(id);
    members[id] = address == config.addresses.end() ? std::string() : address->second;
  }
  channel->set_peers(members);
}

void Node::Impl::handle(detail::Event& event) {
  if (std::holds_alternative<detail::Tick>(event)) {
    engine->tick();
  } else if (auto* call = std::get_if<detail::PerformCall>(&event)) {
    const auto id = call->read ? engine->read(call->deadline)
                               : engine->perform(std::move(call->method), std::move(call->args),
                                                 call->started, call->deadline, call->session);
    handlers.put(id, std::move(call->handler));
  } else if (auto* done = std::get_if<detail::SyncDone>(&event)) {
    on_sync_done(*done);
  } else if (auto* written = std::get_if<detail::SnapshotDone>(&event)) {
    on_snapshot_done(*written);
  } else if (auto* packet = std::get_if<transport::Packet>(&event)) {
    if (!isolated) engine->receive(std::move(*packet));
  }
}

// The Ready contract (ready.hpp), carried out with writes pipelined: early
// messages at once; the write here and, with durable storage, an fdatasync
// on the worker, which covers every write made before it started; the other
// messages once a Ready is durable, before the engine applies it, Readys in
// the order they came. Meanwhile the owner keeps taking events and Readys,
// and while one sync runs the next gathers every write made meanwhile: group
// commit, with the next batch written and replicated during the sync.
void Node::Impl::drain_ready() {
  while (writing.size() < max_writing && !installing() && storage_error.empty()) {
    auto ready = engine->next_ready();
    if (!ready) break;
    for (auto& message : ready->early_messages) send(std::move(message));
    try {
      for (const auto& chunk : ready->snapshot_chunks) store->write_chunk(chunk);
      if (ready->hard_state) store->save_hard_state(*ready->hard_state);
      store->append(ready->entries);
    } catch (const std::exception& error) {  // StorageError, filesystem_error, bad_alloc
      return storage_failed(error.what());
    }
    const bool needs_sync = durable && !ready->entries.empty();
    if (!needs_sync && writing.empty()) {
      finish_ready(*ready);
      continue;
    }
    const auto sync = needs_sync ? syncs_started + 1 : writing.back().sync;
    writing.push_back({std::move(*ready), sync});
  }
  // Written, and waiting for a sync not started yet (Readys take the number
  // of the next sync, or of the Ready before them).
  const bool unsynced = !writing.empty() && writing.back().sync > syncs_started;
  if (unsynced && syncs_started == syncs_done && storage_error.empty()) start_sync();
}

// A snapshot installed by a Ready written and not yet finished: the engine
// restores its state from the stored snapshot when that Ready finishes, and
// the storage keeps only the newest two, so a second install waits.
bool Node::Impl::installing() const {
  for (const auto& written : writing) {
    for (const auto& chunk : written.ready.snapshot_chunks) {
      if (chunk.done) return true;
    }
  }
  return false;
}

// The Ready is durable: its messages go out, then the engine applies it.
void Node::Impl::finish_ready(raft::Ready& ready) {
  for (auto& message : ready.messages) send(std::move(message));
  engine->persisted(ready);
}

// One sync at a time: it covers every write made before it starts, and the
// next starts when it returns (drain_ready).
void Node::Impl::start_sync() {
  std::function<void()> job;
  try {
    job = store->sync_job();
  } catch (const std::exception& error) {
    return storage_failed(error.what());
  }
  const auto sync = ++syncs_started;
  worker->submit([job = std::move(job), sync, ex = executor, weak = weak_from_this()] {
    std::exception_ptr error;
    const auto start = Clock::now();
    try {
      job();
    } catch (...) {
      error = std::current_exception();
    }
    const std::chrono::duration<double> took = Clock::now() - start;
    asio::post(ex, [weak, error, seconds = took.count(), sync] {
      if (auto self = weak.lock()) self->post_event(detail::SyncDone{error, seconds, sync});
    });
  });
}

void Node::Impl::on_sync_done(const detail::SyncDone& done) {
  syncs_done = done.sync;
  fsync_latency.observe(done.seconds);
  if (done.error) {
    try {
      std::rethrow_exception(done.error);
    } catch (const std::exception& error) {
      return storage_failed(error.what());
    }
  }
  while (!writing.empty() && writing.front().sync <= syncs_done && storage_error.empty()) {
    auto durable_now = std::move(writing.front());
    writing.pop_front();
    finish_ready(durable_now.ready);
  }
}

// A snapshot the engine wants (engine.hpp): the state is copied here, then
// serialized and written on the snapshot worker while the node goes on.
void Node::Impl::start_snapshot() {
  if (!storage_error.empty()) return;
  auto job = engine->take_snapshot_job();
  if (!job) return;
  const auto start = Clock::now();
  std::shared_ptr<storage::SnapshotWriter> writer;
  try {
    writer = store->begin_snapshot(job->identity);
  } catch (const std::exception& error) {
    options.log(LogLevel::warning, std::string("cannot start a snapshot: ") + error.what());
    return engine->snapshot_taken(std::nullopt, 0);
  }
  auto content = std::make_shared<detail::SnapshotContent>(std::move(job->content));
  snapshot_worker.submit([writer, content, start, ex = executor, weak = weak_from_this()] {
    std::exception_ptr error;
    raft::SnapshotMeta meta;
    try {
      detail::write_snapshot(*content, *writer);
      meta = writer->finish();
    } catch (...) {
      error = std::current_exception();
    }
    const std::chrono::duration<double> took = Clock::now() - start;
    asio::post(ex, [weak, writer, meta, error, seconds = took.count()] {
      if (auto self = weak.lock())
        self->post_event(detail::SnapshotDone{writer, meta, error, seconds});
    });
  });
}

// The snapshot is written: the storage adopts it (deleting what it makes
// redundant) and the core compacts. A failed snapshot costs nothing but
// the log it would have compacted; the next one is tried later.
void Node::Impl::on_snapshot_done(detail::SnapshotDone& done) {
  std::optional<raft::SnapshotMeta> meta;
  try {
    if (done.error) std::rethrow_exception(done.error);
    if (store->adopt_snapshot(*done.writer)) meta = done.meta;
  } catch (const std::exception& error) {
    options.log(LogLevel::warning,
                std::string("snapshot failed (the log is not compacted): ") + error.what());
  }
  engine->snapshot_taken(meta, done.seconds);
}

// What the engine asked for: packets to the channel, completions to their
// handlers (post() runs each through its own associated executor).
void Node::Impl::carry_out() {
  for (auto& packet : engine->take_sends()) send(std::move(packet));
  for (auto& completion : engine->take_completions()) deliver(std::move(completion));
}

void Node::Impl::deliver(detail::Completion completion) {
  auto handler = handlers.take(completion.id);
  if (!handler) return;
  asio::post(executor,
             asio::append(std::move(handler), completion.error, std::move(completion.result)));
}

void Node::Impl::send(transport::Packet packet) {
  if (!isolated) channel->send(std::move(packet));
}

bool Node::Impl::reachable(const raft::NodeId& peer) const {
  if (isolated) return false;
  for (const auto& status : channel->status()) {
    if (status.id == peer) return status.connected;
  }
  return false;
}

// Nothing written after a storage failure is acknowledged: the Ready is
// never finished, so no vote or acknowledgement leaves and nothing is
// applied; the node keeps its state and reports the error.
void Node::Impl::storage_failed(const std::string& what) {
  writing.clear();
  storage_error = what;
  options.log(LogLevel::error, "storage failed, no longer acknowledging writes: " + what);
}

// A bug or resource failure escaped the owner's round: rather than end the
// owner (and strand every pending perform), fail what is pending, the
// performs of the round not yet handled included, and stop acknowledging,
// like a storage failure.
void Node::Impl::fail_round(std::deque<detail::Event>& unhandled, const std::string& why) {
  storage_failed("internal error: " + why);
  engine->fail_all(errc::closed, "the node failed: " + why);
  fail_calls(unhandled, "the node failed: " + why);
  try {
    carry_out();
  } catch (...) {  // out of memory even for this: the handlers are lost, the node is stopped
  }
}

// Logs (info) each change of role, term or known leader.
void Node::Impl::report_role_change() {
  const auto& raft = engine->raft();
  const auto role = raft.role();
  const auto term = raft.term();
  const auto& leader = raft.leader();
  if (role == seen.role && term == seen.term && leader == seen.leader) return;
  seen = {role, term, leader};
  std::string line = std::string(raft::to_string(role)) + " in term " + std::to_string(term);
  if (role != raft::Role::leader)
    line += leader.empty() ? ", leader unknown" : ", leader " + leader;
  options.log(LogLevel::info, line);
}

asio::awaitable<void> Node::Impl::ticker() {
  while (!closing) {
    tick_timer.expires_after(tick_interval);
    auto [ec] = co_await tick_timer.async_wait(as_tuple_awaitable);
    if (ec || closing) co_return;
    post_event(detail::Tick{});
  }
}

// Performs among `queued` never reached the engine: they fail with `why`
// and leave the queue. Other events stay: a sync in flight must still be
// reported for the owner to end.
void Node::Impl::fail_calls(std::deque<detail::Event>& queued, const std::string& why) {
  std::erase_if(queued, [&](detail::Event& event) {
    auto* call = std::get_if<detail::PerformCall>(&event);
    if (call) refuse(*call, why);
    return call != nullptr;
  });
}

// A perform that never reached the engine fails as closed.
void Node::Impl::refuse(detail::PerformCall& call, const std::string& why) {
  auto error = std::make_exception_ptr(Error(errc::closed, why));
  asio::post(executor, asio::append(std::move(call.handler), error, boost::json::value()));
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
  const auto logged = transport::log_escaped(
      "task", [log = impl->options.log](std::string_view line) { log(LogLevel::error, line); });
  const auto done = [impl, logged](std::exception_ptr error) {
    logged(error);
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
                         boost::json::array args, std::optional<SessionCall> session,
                         std::chrono::milliseconds timeout, PerformHandler handler) {
  const auto now = Clock::now();
  detail::PerformCall call{std::move(method),  std::move(args), now,    now + timeout,
                           std::move(handler), false,           session};
  asio::dispatch(impl->executor,
                 [impl, c = std::move(call)]() mutable { impl->post_event(std::move(c)); });
}

void Node::start_read(const std::shared_ptr<Impl>& impl, std::chrono::milliseconds timeout,
                      PerformHandler handler) {
  const auto now = Clock::now();
  detail::PerformCall call{{}, {}, now, now + timeout, std::move(handler), true, std::nullopt};
  asio::dispatch(impl->executor,
                 [impl, c = std::move(call)]() mutable { impl->post_event(std::move(c)); });
}

// Stops accepting work, fails what is pending, closes the channel and wakes
// the owner and the ticker so that all three coroutines end. Posted, never
// run inline: close() may be called from a method or a subscriber, that is,
// from inside the engine.
void Node::start_close(const std::shared_ptr<Impl>& impl,
                       asio::any_completion_handler<CloseSignature> handler) {
  asio::post(impl->executor, [impl, h = std::move(handler)]() mutable {
    if (h) impl->close_waiters.push_back(std::move(h));
    if (impl->tasks == 0) return impl->release_close_waiters();
    if (impl->closing) return;
    impl->closing = true;
    impl->engine->fail_all(errc::closed, "the node was closed before the perform completed");
    impl->carry_out();
    impl->fail_calls(impl->events, "the node was closed before the perform completed");
    impl->channel->close();
    impl->wake.cancel();
    impl->tick_timer.cancel();
  });
}

const boost::json::value& Node::state() const {
  return impl_->engine->state();
}
const boost::json::value& Node::provisional_state() const {
  return impl_->engine->provisional_state();
}

Subscription Node::subscribe(Subscriber callback) {
  const auto id = impl_->engine->subscribe(std::move(callback));
  return Subscription([weak = std::weak_ptr(impl_), id] {
    if (auto impl = weak.lock()) impl->engine->unsubscribe(id);
  });
}

void Node::request_snapshot() {
  asio::post(impl_->executor, [impl = impl_] {
    if (impl->closing) return;
    impl->engine->request_snapshot();
    impl->start_snapshot();
  });
}

void Node::set_isolated(bool isolated) {
  impl_->isolated = isolated;
}

std::string Node::reload_tls() {
  return impl_->channel->reload_tls();
}

}  // namespace conflux
