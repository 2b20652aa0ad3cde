#pragma once
// Engines without sockets, executors or clocks (lib/src/engine/engine.hpp):
// engines joined by a hand-driven wire, time moved by hand.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "engine.hpp"
#include "lib/list_app.hpp"
#include "snapshot_codec.hpp"
#include "volatile_storage.hpp"

namespace conflux::test {

using namespace conflux::detail;

inline constexpr std::chrono::milliseconds tick{10};

/// N engines n1..nN, a wire in between (FIFO), and a clock moved by tick().
class EngineCluster {
 public:
  /// `tweak` may change any engine's options before it is built.
  explicit EngineCluster(std::size_t size, const std::function<void(Options&)>& tweak = {}) {
    std::vector<Peer> peers;
    for (std::size_t i = 1; i <= size; ++i) peers.push_back(Peer{"n" + std::to_string(i), ""});
    for (std::size_t i = 0; i < size; ++i) {
      Options options;
      options.id = peers[i].id;
      options.peers = peers;
      options.methods = test::list_methods();
      options.reduce = test::list_reduce;
      options.election_timeout = {std::chrono::milliseconds(100), std::chrono::milliseconds(200)};
      options.heartbeat_interval = std::chrono::milliseconds(50);
      options.log = [](LogLevel, std::string_view) {};
      if (tweak) tweak(options);
      const auto id = options.id;
      stores_.push_back(std::make_unique<VolatileStorage>());
      engines_.push_back(std::make_unique<Engine>(
          options, tick, *stores_.back(), 1000 * (i + 1),
          EngineHooks{
              .reachable = [this, id](const raft::NodeId& peer) { return linked(id, peer); },
              .now = [this] { return now_; },
              .wall_clock = [this] { return wall_ms(); }}));
    }
  }

  Engine& engine(std::size_t i) { return *engines_.at(i); }
  /// The leaders' calendar clock: moves with now_.
  std::uint64_t wall_ms() const {
    const auto since =
        std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch());
    return 1'700'000'000'000 + static_cast<std::uint64_t>(since.count()) + wall_offset_;
  }
  /// Moves the calendar clock ahead by `ms` (a leader's clock jumping).
  void jump_wall_clock(std::uint64_t ms) { wall_offset_ += ms; }
  const std::string& id(std::size_t i) const { return engines_.at(i)->raft().id(); }

  /// Cuts (or restores) every link of node i.
  void isolate(std::size_t i, bool cut = true) {
    if (cut) {
      isolated_.insert(id(i));
    } else {
      isolated_.erase(id(i));
    }
  }
  bool linked(const raft::NodeId& a, const raft::NodeId& b) const {
    return !isolated_.count(a) && !isolated_.count(b);
  }
  /// Stops (or resumes) node i's process: it is neither ticked nor handed
  /// anything, while time goes on; what is sent to it waits, as in its
  /// socket, until it resumes and the wire is delivered again.
  void pause(std::size_t i, bool stop = true) {
    if (stop) {
      paused_.insert(id(i));
    } else {
      paused_.erase(id(i));
    }
  }
  /// Drops every client message that matches, until cleared.
  void drop_if(std::function<bool(const transport::Packet&)> filter) { drop_ = std::move(filter); }

  /// One round of node i's driver: Readys persisted at once, then settle.
  void round(std::size_t i) {
    auto& e = engine(i);
    drain(i);
    e.settle();
    drain(i);
    for (auto& packet : e.take_sends()) wire_.push_back(std::move(packet));
    for (auto& completion : e.take_completions()) done_[completion.id] = std::move(completion);
  }
  /// Moves time by one tick on every node, then delivers until quiet.
  void tick_all(int ticks = 1) {
    for (int t = 0; t < ticks; ++t) {
      now_ += tick;
      for (std::size_t i = 0; i < engines_.size(); ++i) {
        if (paused_.count(id(i))) continue;
        engine(i).tick();
        round(i);
      }
      deliver();
    }
  }
  void deliver() {
    std::deque<transport::Packet> held;  // for paused nodes
    for (int budget = 100000; !wire_.empty() && budget > 0; --budget) {
      auto packet = std::move(wire_.front());
      wire_.pop_front();
      const auto to = index_of(transport::recipient(packet));
      if (!linked(transport::sender(packet), id(to)) || (drop_ && drop_(packet))) continue;
      if (paused_.count(id(to))) {
        held.push_back(std::move(packet));
        continue;
      }
      engine(to).receive(std::move(packet));
      round(to);
    }
    wire_.insert(wire_.end(), std::make_move_iterator(held.begin()),
                 std::make_move_iterator(held.end()));
  }
  /// Ticks until one node leads and every node knows it; its index.
  std::size_t elect() {
    for (int t = 0; t < 200; ++t) {
      tick_all();
      for (std::size_t i = 0; i < engines_.size(); ++i) {
        if (engine(i).raft().role() != raft::Role::leader || isolated_.count(id(i))) continue;
        bool known = true;
        for (std::size_t j = 0; j < engines_.size(); ++j) {
          if (!isolated_.count(id(j))) known = known && engine(j).raft().leader() == id(i);
        }
        if (known) return i;
      }
    }
    FAIL("no leader within 200 ticks");
    return 0;
  }

  /// Node i snapshots its committed state and compacts its log, as the
  /// Asio driver does (node.cpp), on the spot.
  void snapshot(std::size_t i) {
    auto& e = engine(i);
    e.request_snapshot();
    auto job = e.take_snapshot_job();
    REQUIRE(job);
    auto writer = stores_[i]->begin_snapshot(job->identity);
    write_snapshot(job->content, *writer);
    const auto meta = writer->finish();
    REQUIRE(stores_[i]->adopt_snapshot(*writer));
    e.snapshot_taken(meta, 0);
    round(i);
  }

  /// Starts a perform on node i (timeout 1 s); its id.
  std::uint64_t perform(std::size_t i, const std::string& method, boost::json::array args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(1),
                        std::optional<SessionCall> session = std::nullopt) {
    const auto id = engine(i).perform(method, std::move(args), now_, now_ + timeout, session);
    round(i);
    deliver();
    return id;
  }
  /// Starts a linearizable read on node i (timeout 1 s); its id.
  std::uint64_t read(std::size_t i) {
    const auto id = engine(i).read(now_ + std::chrono::seconds(1));
    round(i);
    deliver();
    return id;
  }
  const Completion* done(std::uint64_t id) const {
    const auto found = done_.find(id);
    return found == done_.end() ? nullptr : &found->second;
  }
  errc error_of(std::uint64_t id) const {
    REQUIRE(done(id));
    if (!done(id)->error) FAIL("perform " << id << " succeeded");
    try {
      std::rethrow_exception(done(id)->error);
    } catch (const Error& error) {
      return error.code();
    }
    return errc::closed;
  }
  /// Client messages that went out so far, of type T.
  template <class T>
  int sent() const {
    return sent_.count(typeid(T).name()) ? sent_.at(typeid(T).name()) : 0;
  }

 private:
  void drain(std::size_t i) {
    while (auto ready = engine(i).next_ready()) {
      for (auto& message : ready->early_messages) count_and_queue(std::move(message));
      for (const auto& chunk : ready->snapshot_chunks) stores_[i]->write_chunk(chunk);
      if (ready->hard_state) stores_[i]->save_hard_state(*ready->hard_state);
      stores_[i]->append(ready->entries);
      for (auto& message : ready->messages) count_and_queue(std::move(message));
      engine(i).persisted(*ready);
    }
    for (auto& packet : engine(i).take_sends()) count_and_queue(std::move(packet));
  }
  void count_and_queue(transport::Packet packet) {
    if (auto* client = std::get_if<transport::ClientMessage>(&packet)) {
      std::visit([&](const auto& body) { ++sent_[typeid(body).name()]; }, client->body);
    }
    wire_.push_back(std::move(packet));
  }
  std::size_t index_of(const raft::NodeId& id) const {
    for (std::size_t i = 0; i < engines_.size(); ++i) {
      if (engines_[i]->raft().id() == id) return i;
    }
    throw std::out_of_range(id);
  }

  Clock::time_point now_{};
  std::uint64_t wall_offset_ = 0;
  std::vector<std::unique_ptr<VolatileStorage>> stores_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::deque<transport::Packet> wire_;
  std::set<raft::NodeId> paused_;
  std::set<raft::NodeId> isolated_;
  std::function<bool(const transport::Packet&)> drop_;
  std::map<std::uint64_t, Completion> done_;
  std::map<std::string, int> sent_;
};

inline bool is_reply(const transport::Packet& packet) {
  const auto* client = std::get_if<transport::ClientMessage>(&packet);
  return client && std::holds_alternative<transport::PerformReply>(client->body);
}

}  // namespace conflux::test
