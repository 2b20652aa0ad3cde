// A browser tab's storage (lib/browser/tab_storage.hpp), natively: the
// IndexedDB writes it asks for, carried out by a model of conflux.mjs's
// TabStore, and what a reload restores from them. A reload is a
// crash-restart: the hard state, the snapshot and the log after it come
// back, and an engine restored from them holds the same state.
#include "tab_storage.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "engine.hpp"
#include "lib/list_app.hpp"
#include "snapshot_codec.hpp"

namespace json = boost::json;
using conflux::browser::TabStorage;
namespace raft = conflux::raft;

namespace {

/// What conflux.mjs's TabStore keeps in IndexedDB, and its write() and
/// restore(), in the order TabStore carries them out.
struct SavedTab {
  json::value hard = nullptr;
  json::value snapshot = nullptr;
  std::map<std::uint64_t, json::value> log;

  void write(const json::object& w) {
    if (const auto* s = w.if_contains("snapshot")) snapshot = *s;
    if (const auto* n = w.if_contains("dropThrough"))
      log.erase(log.begin(), log.upper_bound(n->to_number<std::uint64_t>()));
    if (const auto* n = w.if_contains("dropAfter"))
      log.erase(log.upper_bound(n->to_number<std::uint64_t>()), log.end());
    if (!w.at("hardState").is_null()) hard = w.at("hardState");
    const auto& entries = w.at("entries").as_array();
    if (!entries.empty())
      log.erase(log.lower_bound(entries.front().at("index").to_number<std::uint64_t>()), log.end());
    for (const auto& e : entries) log[e.at("index").to_number<std::uint64_t>()] = e;
  }
  std::string restored() const {
    json::array entries;
    for (const auto& [index, entry] : log) entries.push_back(entry);
    return json::serialize(
        json::object{{"hardState", hard}, {"snapshot", snapshot}, {"entries", entries}});
  }
};

raft::Configuration voters(std::vector<raft::NodeId> ids) {
  raft::Configuration configuration;
  configuration.voters = std::move(ids);
  return configuration;
}

raft::Entry entry(raft::Index index, raft::Term term) {
  return {.term = term,
          .index = index,
          .type = raft::EntryType::normal,
          .payload = raft::Payload("{\"append\":" + std::to_string(index) + "}")};
}

raft::Ready appending(std::initializer_list<raft::Entry> entries, raft::Term term) {
  raft::Ready ready;
  ready.hard_state = raft::HardState{.term = term, .vote = "a", .commit = 0};
  ready.entries = entries;
  return ready;
}

/// A Ready installing snapshot (index, term) of bytes "ABCDEF" in two chunks.
raft::Ready installing(raft::Index index, raft::Term term) {
  const raft::SnapshotMeta meta{
      .index = index, .term = term, .size = 6, .configuration = voters({"a", "b", "c"})};
  raft::Ready ready;
  ready.snapshot_chunks = {{.meta = meta, .offset = 0, .data = raft::Payload("ABC")},
                           {.meta = meta, .offset = 3, .data = raft::Payload("DEF"), .done = true}};
  return ready;
}

std::string restore_error(const std::string& restored) {
  try {
    TabStorage probe(restored);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("tab storage: a reload restores the hard state and the log that the writes stored") {
  SavedTab db;
  TabStorage tab(db.restored());
  db.write(tab.apply(appending({entry(1, 1), entry(2, 1), entry(3, 1)}, 1)));
  db.write(tab.apply(appending({entry(3, 2), entry(4, 2)}, 2)));  // a conflicting tail replaced
  const TabStorage reloaded(db.restored());
  CHECK(reloaded.hard_state() == raft::HardState{.term = 2, .vote = "a", .commit = 0});
  const auto entries = reloaded.entries();
  REQUIRE(entries.size() == 4);
  CHECK(entries[2] == entry(3, 2));
  CHECK(entries[3] == entry(4, 2));
  CHECK(reloaded.snapshot().index == 0);
}

TEST_CASE(
    "tab storage: a snapshot installed over a log that matches it keeps the entries after it") {
  SavedTab db;
  TabStorage tab(db.restored());
  db.write(tab.apply(appending({entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)}, 1)));
  const auto write = tab.apply(installing(2, 1));
  CHECK(write.at("dropThrough") == 2);
  CHECK_FALSE(write.contains("dropAfter"));
  db.write(write);
  const TabStorage reloaded(db.restored());
  CHECK(reloaded.snapshot().index == 2);
  CHECK(reloaded.snapshot().configuration.voters == std::vector<raft::NodeId>{"a", "b", "c"});
  CHECK(reloaded.read_snapshot(reloaded.snapshot(), 0, 100) == raft::Payload("ABCDEF"));
  const auto entries = reloaded.entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries.front() == entry(3, 1));
}

TEST_CASE(
    "tab storage: a snapshot installed over a log that does not match it drops the whole log") {
  SavedTab db;
  TabStorage tab(db.restored());
  db.write(tab.apply(appending({entry(1, 1), entry(2, 1), entry(3, 1)}, 1)));
  auto ready = installing(2, 2);  // the leader's entry 2 has term 2
  ready.entries = {entry(3, 2)};  // and the leader's log goes on after it
  const auto write = tab.apply(ready);
  CHECK(write.at("dropAfter") == 2);
  db.write(write);
  const TabStorage reloaded(db.restored());
  CHECK(reloaded.snapshot().index == 2);
  const auto entries = reloaded.entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries.front() == entry(3, 2));

  SUBCASE("and a snapshot beyond the whole log drops it too") {
    auto later = tab.apply(installing(9, 3));
    CHECK(later.at("dropAfter") == 9);
    db.write(later);
    CHECK(TabStorage(db.restored()).entries().empty());
  }
}

TEST_CASE("tab storage: what cannot be restored is refused, naming what is wrong") {
  CHECK(restore_error("[1]") == "what IndexedDB holds is not an object");
  CHECK(restore_error(R"({"hardState":null})") == "what IndexedDB holds has no \"entries\"");
  CHECK(restore_error(R"({"entries":[{"index":5,"term":1,"type":0,"payload":"{}"}]})") ==
        "the log holds entry 5 after the snapshot at 0");
  CHECK(restore_error(R"({"entries":[{"index":1,"term":1,"type":0,"payload":"{}"},
                                     {"index":3,"term":1,"type":0,"payload":"{}"}]})") ==
        "the log holds entry 3 after entry 1");
  CHECK(restore_error(R"({"hardState":{"term":"x","vote":"","commit":0},"entries":[]})") ==
        "the hard state: \"term\" is not a number");
  const auto configuration = json::serialize(json::string(raft::encode(voters({"a"}))));
  CHECK(restore_error(R"({"snapshot":{"meta":{"index":4,"term":1,"size":9,"configuration":)" +
                      configuration + R"(},"data":"ABC"},"entries":[]})") ==
        "the snapshot at 4 holds 3 bytes, not 9");
}

// The whole path: an engine on a tab's storage takes its own snapshots
// (the tab has no worker: TabNode writes them at once), and a reload
// restores the same state from the snapshot and the log after it.
TEST_CASE("tab storage: an engine restored from the saved snapshot and log holds the same state") {
  using namespace conflux;
  using namespace std::chrono_literals;
  Options options;
  options.id = "t";
  options.peers = {Peer{"t", ""}};
  options.methods = test::list_methods();
  options.reduce = test::list_reduce;
  options.election_timeout = {100ms, 200ms};
  options.heartbeat_interval = 50ms;
  options.snapshot = {.entries = 3, .bytes = 0, .trailing_entries = 0};
  options.log = [](LogLevel, std::string_view) {};
  detail::Clock::time_point now{};
  const auto start = [&](TabStorage& storage) {
    return std::make_unique<detail::Engine>(
        options, 10ms, storage, 1,
        detail::EngineHooks{.reachable = [](const raft::NodeId&) { return true; },
                            .now = [&] { return now; },
                            .wall_clock = [] { return std::uint64_t{1'700'000'000'000}; }});
  };
  SavedTab db;
  int snapshots = 0;
  const auto round = [&](detail::Engine& engine, TabStorage& storage) {  // TabNode's next_step
    for (;;) {
      auto ready = engine.next_ready();
      if (!ready) engine.settle();
      if (!ready) ready = engine.next_ready();
      if (ready) {
        db.write(storage.apply(*ready));
        engine.persisted(*ready);
        continue;
      }
      auto job = engine.take_snapshot_job();
      if (!job) return;
      auto writer = storage.begin_snapshot(job->identity);
      detail::write_snapshot(job->content, *writer);
      const auto meta = writer->finish();
      REQUIRE(storage.adopt_snapshot(*writer));
      db.write(storage.adopted_write());
      engine.snapshot_taken(meta, 0);
      ++snapshots;
    }
  };
  const auto perform_all = [&](detail::Engine& engine, TabStorage& storage, int from, int to) {
    for (int i = 0; i < 50 && engine.raft().role() != raft::Role::leader; ++i) {
      now += 10ms;
      engine.tick();
      round(engine, storage);
    }
    REQUIRE(engine.raft().role() == raft::Role::leader);
    for (int n = from; n < to; ++n) {
      engine.perform("append", json::array{n}, now, now + 1s);
      round(engine, storage);
    }
  };

  auto storage = std::make_unique<TabStorage>(db.restored());
  auto engine = start(*storage);
  perform_all(*engine, *storage, 0, 10);
  CHECK(snapshots >= 2);
  const auto before = engine->state();
  CHECK(before.as_array().size() == 10);
  engine.reset();
  storage = std::make_unique<TabStorage>(db.restored());  // the reload
  CHECK(storage->snapshot().index > 0);
  CHECK(storage->entries().size() < 10);
  engine = start(*storage);
  storage->release_restored();
  round(*engine, *storage);
  CHECK(engine->state() == before);
  perform_all(*engine, *storage, 10, 12);
  CHECK(engine->state().as_array().size() == 12);
}
