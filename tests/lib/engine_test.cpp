// The node engine (lib/src/engine.hpp) without sockets, executors or
// clocks: engines joined by a hand-driven wire, time moved by hand. These
// are the perform lifecycle's specifications: forwarding, completion on
// apply, outcome_unknown, leadership_lost, no_leader, and the refusals that
// happen before anything is sent.
#include "engine.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "lib/list_app.hpp"
#include "volatile_storage.hpp"

using namespace conflux;
using namespace conflux::detail;
using boost::json::value;

namespace {

constexpr std::chrono::milliseconds tick{10};

/// N engines n1..nN, a wire in between (FIFO), and a clock moved by tick().
class EngineCluster {
 public:
  explicit EngineCluster(std::size_t size) {
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
      const auto id = options.id;
      stores_.push_back(std::make_unique<VolatileStorage>());
      engines_.push_back(std::make_unique<Engine>(
          options, tick, *stores_.back(), 1000 * (i + 1),
          EngineHooks{
              .reachable = [this, id](const raft::NodeId& peer) { return linked(id, peer); },
              .now = [this] { return now_; }}));
    }
  }

  Engine& engine(std::size_t i) { return *engines_.at(i); }
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
        engine(i).tick();
        round(i);
      }
      deliver();
    }
  }
  void deliver() {
    for (int budget = 100000; !wire_.empty() && budget > 0; --budget) {
      auto packet = std::move(wire_.front());
      wire_.pop_front();
      const auto to = index_of(transport::recipient(packet));
      if (!linked(transport::sender(packet), id(to)) || (drop_ && drop_(packet))) continue;
      engine(to).receive(std::move(packet));
      round(to);
    }
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

  /// Starts a perform on node i (timeout 1 s); its id.
  std::uint64_t perform(std::size_t i, const std::string& method, boost::json::array args,
                        std::chrono::milliseconds timeout = std::chrono::seconds(1)) {
    const auto id = engine(i).perform(method, std::move(args), now_, now_ + timeout);
    round(i);
    deliver();
    return id;
  }
  const Completion* done(std::uint64_t id) const {
    const auto found = done_.find(id);
    return found == done_.end() ? nullptr : &found->second;
  }
  errc error_of(std::uint64_t id) const {
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
  std::vector<std::unique_ptr<VolatileStorage>> stores_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::deque<transport::Packet> wire_;
  std::set<raft::NodeId> isolated_;
  std::function<bool(const transport::Packet&)> drop_;
  std::map<std::uint64_t, Completion> done_;
  std::map<std::string, int> sent_;
};

bool is_reply(const transport::Packet& packet) {
  const auto* client = std::get_if<transport::ClientMessage>(&packet);
  return client && std::holds_alternative<transport::PerformReply>(client->body);
}

}  // namespace

TEST_CASE(
    "engine: a perform on a follower is forwarded, proposed by the leader, and completes once "
    "applied on the follower") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  const auto id = c.perform(follower, "append", {"x"});
  c.tick_all(3);
  REQUIRE(c.done(id));
  CHECK_FALSE(c.done(id)->error);
  CHECK(c.done(id)->result == value({{"append", "x"}}));
  CHECK(c.engine(follower).state() == value(boost::json::array{"x"}));
  CHECK(c.sent<transport::PerformRequest>() == 1);
  CHECK(c.sent<transport::PerformReply>() == 1);
}

TEST_CASE("engine: null and refusals complete at once, and nothing is appended") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  const auto last = c.engine(leader).raft().log().last_index();
  const auto nothing = c.perform(follower, "nothing", {});
  const auto refused = c.perform(follower, "refuse", {});
  const auto unknown = c.perform(leader, "no_such_method", {});
  REQUIRE(c.done(nothing));
  CHECK(c.done(nothing)->result.is_null());
  CHECK_FALSE(c.done(nothing)->error);
  CHECK(c.error_of(refused) == errc::method_failed);
  CHECK(c.error_of(unknown) == errc::unknown_method);
  CHECK(c.engine(leader).raft().log().last_index() == last);
}

TEST_CASE("engine: arguments that cannot cross the wire are refused where perform is called") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  const auto infinite = std::numeric_limits<double>::infinity();
  for (const auto node : {follower, leader}) {
    const auto id = c.perform(node, "append", {infinite});
    REQUIRE(c.done(id));
    CHECK(c.error_of(id) == errc::bad_arguments);
  }
  const auto latin1 = c.perform(follower, "append", {"caf\xe9"});
  REQUIRE(c.done(latin1));
  CHECK(c.error_of(latin1) == errc::bad_arguments);
  const auto deep = c.perform(follower, "append",
                              {boost::json::parse(std::string(30, '[') + std::string(30, ']'))});
  REQUIRE(c.done(deep));
  CHECK(c.error_of(deep) == errc::bad_arguments);
  const auto utf8 = c.perform(follower, "append", {"caf\xc3\xa9 \xf0\x9f\x98\x80"});
  c.tick_all(3);
  REQUIRE(c.done(utf8));
  CHECK_FALSE(c.done(utf8)->error);
  CHECK(c.sent<transport::PerformRequest>() == 1);  // only the valid one was forwarded
}

TEST_CASE(
    "engine: a forwarded perform whose leader is replaced before answering fails as "
    "outcome_unknown, never as success") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  c.drop_if(is_reply);
  const auto id = c.perform(follower, "append", {"maybe"});
  REQUIRE(c.sent<transport::PerformRequest>() == 1);
  CHECK_FALSE(c.done(id));
  c.isolate(leader);
  const auto next = c.elect();
  REQUIRE(next != leader);
  REQUIRE(c.done(id));
  CHECK(c.error_of(id) == errc::outcome_unknown);
}

TEST_CASE(
    "engine: an action appended by a leader that loses its leadership fails as leadership_lost "
    "once another entry is applied at its index") {
  EngineCluster c(3);
  const auto leader = c.elect();
  c.isolate(leader);
  const auto lost = c.perform(leader, "append", {"lost"});  // appended, never replicated
  CHECK_FALSE(c.done(lost));
  const auto next = c.elect();
  const auto kept = c.perform(next, "append", {"kept"});
  c.tick_all(3);
  REQUIRE(c.done(kept));
  c.isolate(leader, false);
  c.tick_all(50);
  REQUIRE(c.done(lost));
  CHECK(c.error_of(lost) == errc::leadership_lost);
  CHECK(c.engine(leader).state() == value(boost::json::array{"kept"}));
}

TEST_CASE(
    "engine: with no reachable leader a perform waits, then fails as no_leader at its deadline; "
    "nothing was proposed") {
  EngineCluster c(3);
  const auto leader = c.elect();
  const auto follower = (leader + 1) % 3;
  c.isolate(follower);
  const auto id = c.perform(follower, "append", {"x"}, std::chrono::milliseconds(200));
  CHECK(c.sent<transport::PerformRequest>() == 0);
  c.tick_all(25);
  REQUIRE(c.done(id));
  CHECK(c.error_of(id) == errc::no_leader);
}

TEST_CASE("engine: fail_all completes every pending perform with the code given") {
  EngineCluster c(3);
  const auto leader = c.elect();
  c.isolate(leader);
  const auto id = c.perform(leader, "append", {"x"});
  c.engine(leader).fail_all(errc::closed, "closing");
  c.round(leader);
  REQUIRE(c.done(id));
  CHECK(c.error_of(id) == errc::closed);
}

TEST_CASE("engine: several snapshots arriving whole in one round restore the last one") {
  EngineCluster cluster(2);
  auto& follower = cluster.engine(1);
  // A burst of queued chunks after a restart: three single-chunk snapshots
  // from leader n1, stepped before any Ready is written. The storage keeps
  // the newest two only.
  for (const int index : {5, 10, 15}) {
    std::string state = "[";
    for (int i = 1; i <= index; ++i) state += (i > 1 ? "," : "") + std::to_string(i);
    const auto text = R"({"conflux_snapshot":1,"state":)" + state + "]}";
    follower.receive(raft::Message{"n1", "n2", 1,
                                   raft::SnapshotRequest{.index = static_cast<raft::Index>(index),
                                                         .snapshot_term = 1,
                                                         .size = text.size(),
                                                         .offset = 0,
                                                         .data = raft::Payload(text),
                                                         .done = true,
                                                         .configuration = cluster.engine(0)
                                                                              .raft()
                                                                              .configuration()}});
  }
  cluster.round(1);
  CHECK(follower.raft().snapshot().index == 15);
  CHECK(follower.state().as_array().size() == 15);
  CHECK(follower.counters().snapshots_installed == 3);
}
