// The whole node engine (lib/src/engine: the core, the state machine,
// perform's bookkeeping, client sessions, reads, snapshots) and the wire
// codec, run on seeded schedules: performs and reads on random nodes, lost
// and reordered packets, a node cut off and healed, snapshots. Every packet
// crosses the wire as its JSON text (encode, then decode_packet), as between
// a tab and a native peer.
//
// One line per seed: a digest (FNV-1a, 64 bits) of every packet's text,
// every completion and each node's final state, and a few counts. Built
// natively (libstdc++) and with emscripten (libc++ 13), the two outputs must
// be identical byte for byte (compare.cmake): a browser peer runs this same
// engine and must decide exactly as a native one does.
//
//   engine_digest [SEEDS]   (default 100)
#include <boost/json/serialize.hpp>
#include <conflux/errors.hpp>
#include <conflux/raft/random.hpp>
#include <conflux/transport/codec.hpp>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine.hpp"
#include "lib/list_app.hpp"
#include "volatile_storage.hpp"

namespace conflux::test {
namespace {

using detail::Clock;
using detail::Engine;

constexpr auto tick = std::chrono::milliseconds(10);

struct Digest {
  std::uint64_t value = 14695981039346656037ULL;
  void add(std::string_view text) {
    for (const unsigned char c : text) value = (value ^ c) * 1099511628211ULL;
    value = (value ^ 0xff) * 1099511628211ULL;  // ends each record
  }
};

class Schedule {
 public:
  Schedule(std::uint64_t seed, std::size_t size) : random_(seed) {
    std::vector<Peer> peers;
    for (std::size_t i = 1; i <= size; ++i) peers.push_back(Peer{"n" + std::to_string(i), ""});
    for (std::size_t i = 0; i < size; ++i) {
      Options options;
      options.id = peers[i].id;
      options.peers = peers;
      options.methods = list_methods();
      options.reduce = list_reduce;
      options.election_timeout = {std::chrono::milliseconds(100), std::chrono::milliseconds(200)};
      options.heartbeat_interval = std::chrono::milliseconds(50);
      options.seed = seed * 16 + i + 1;
      options.snapshot.trailing_entries = 5;
      options.log = [](LogLevel, std::string_view) {};
      stores_.push_back(std::make_unique<detail::VolatileStorage>());
      engines_.push_back(std::make_unique<Engine>(
          options, tick, *stores_.back(), 1000 * (i + 1),
          detail::EngineHooks{.reachable = [this, i](const raft::NodeId&) { return cut_ != i; },
                              .now = [this] { return now_; },
                              .wall_clock = [this] { return wall_ms(); }}));
    }
  }

  /// One step: time passes, maybe a perform, a read, a cut or a snapshot,
  /// then the wire is delivered (with losses and reorderings).
  void step(std::uint64_t n) {
    now_ += tick;
    for (std::size_t i = 0; i < engines_.size(); ++i) {
      engines_[i]->tick();
      round(i);
    }
    const auto node = random_.uniform(0, engines_.size() - 1);
    if (random_.chance(1, 3)) perform(node, n);
    if (random_.chance(1, 10)) {
      engines_[node]->read(now_ + std::chrono::seconds(1));
      round(node);
    }
    if (random_.chance(1, 150)) cut_ = cut_ == none ? node : none;
    if (random_.chance(1, 60)) snapshot(node);
    deliver();
  }

  std::string summary() {
    for (const auto& engine : engines_) digest_.add(boost::json::serialize(engine->state()));
    char line[160];
    std::snprintf(
        line, sizeof line, "%016llx packets %llu completions %llu failed %llu term %llu",
        static_cast<unsigned long long>(digest_.value), static_cast<unsigned long long>(packets_),
        static_cast<unsigned long long>(completions_), static_cast<unsigned long long>(failures_),
        static_cast<unsigned long long>(engines_[0]->raft().term()));
    return line;
  }

 private:
  std::uint64_t wall_ms() const {
    return 1'700'000'000'000 +
           static_cast<std::uint64_t>(
               std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch())
                   .count());
  }

  void perform(std::size_t node, std::uint64_t n) {
    static const char* const methods[] = {"append", "append", "append", "nothing", "refuse"};
    const auto* method = methods[random_.uniform(0, 4)];
    engines_[node]->perform(method, boost::json::array{n}, now_, now_ + std::chrono::seconds(2));
    round(node);
  }

  void snapshot(std::size_t node) {
    auto& engine = *engines_[node];
    engine.request_snapshot();
    auto job = engine.take_snapshot_job();
    if (!job) return;
    auto writer = stores_[node]->begin_snapshot(job->identity);
    detail::write_snapshot(job->content, *writer);
    const auto meta = writer->finish();
    engine.snapshot_taken(
        stores_[node]->adopt_snapshot(*writer) ? std::optional(meta) : std::nullopt, 0);
    round(node);
  }

  /// Node i's driver: each Ready persisted at once, then settle.
  void round(std::size_t i) {
    auto& engine = *engines_[i];
    for (int pass = 0; pass < 2; ++pass) {
      while (auto ready = engine.next_ready()) {
        for (auto& message : ready->early_messages) send(message);
        for (const auto& chunk : ready->snapshot_chunks) stores_[i]->write_chunk(chunk);
        if (ready->hard_state) stores_[i]->save_hard_state(*ready->hard_state);
        stores_[i]->append(ready->entries);
        for (auto& message : ready->messages) send(message);
        engine.persisted(*ready);
      }
      if (pass == 0) engine.settle();
    }
    for (auto& packet : engine.take_sends()) send(packet);
    for (auto& completion : engine.take_completions()) complete(completion);
  }

  void send(const transport::Packet& packet) {
    auto text = transport::encode(packet);
    digest_.add(text);
    ++packets_;
    wire_.push_back(std::move(text));
  }

  void complete(const detail::Completion& completion) {
    ++completions_;
    std::string record = std::to_string(completion.id) + " ";
    if (completion.error) {
      ++failures_;
      try {
        std::rethrow_exception(completion.error);
      } catch (const Error& error) {
        record += std::string(to_string(error.code())) + " " + error.what();
      }
    } else {
      record += boost::json::serialize(completion.result);
    }
    digest_.add(record);
  }

  void deliver() {
    for (int budget = 10000; !wire_.empty() && budget > 0; --budget) {
      if (wire_.size() > 1 && random_.chance(1, 20)) std::swap(wire_[0], wire_[1]);
      auto text = std::move(wire_.front());
      wire_.pop_front();
      if (random_.chance(1, 25)) continue;  // lost
      auto decoded = transport::decode_packet(text);
      if (!decoded.ok()) {
        digest_.add("undecodable " + text);
        continue;
      }
      auto packet = std::move(decoded.value());
      const auto& to = transport::recipient(packet);
      const auto node = static_cast<std::size_t>(std::stoul(to.substr(1)) - 1);
      const auto from =
          static_cast<std::size_t>(std::stoul(transport::sender(packet).substr(1)) - 1);
      if (node == cut_ || from == cut_) continue;
      engines_[node]->receive(std::move(packet));
      round(node);
    }
  }

  raft::Random random_;
  Clock::time_point now_{};
  static constexpr std::size_t none = SIZE_MAX;
  std::size_t cut_ = none;  // the node cut off from the others
  std::vector<std::unique_ptr<detail::VolatileStorage>> stores_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::deque<std::string> wire_;
  Digest digest_;
  std::uint64_t packets_ = 0, completions_ = 0, failures_ = 0;
};

}  // namespace
}  // namespace conflux::test

int main(int argc, char** argv) {
  const long seeds = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 100;
  for (long seed = 1; seed <= seeds; ++seed) {
    conflux::test::Schedule schedule(static_cast<std::uint64_t>(seed), seed % 2 == 0 ? 3 : 5);
    for (std::uint64_t n = 0; n < 1500; ++n) schedule.step(n);
    std::printf("%ld %s\n", seed, schedule.summary().c_str());
  }
  return 0;
}
