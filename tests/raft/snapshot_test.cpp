// Raft §7, log compaction and InstallSnapshot, one rule per test: what the
// leader sends when a follower needs compacted entries, how chunks flow and
// resume, what the follower keeps and discards, and every chunk it refuses.
#include <doctest/doctest.h>

#include <stdexcept>

#include "raft/test_cluster.hpp"

using namespace conflux::raft;
using namespace conflux::raft::testing;

namespace {

const std::vector<NodeId> abc{"a", "b", "c"};

/// Chunks of 8 bytes, two in flight, and no trailing entries kept.
void small_chunks(Config& config) {
  config.max_bytes_per_message = 8;
  config.max_inflight_chunks = 2;
  config.trailing_entries = 0;
}

/// The node's "state machine": its applied payloads, one per line.
std::string state_of(Cluster& c, const NodeId& id) {
  std::string state;
  for (const auto& payload : c.applied_payloads(id)) state += payload + "\n";
  return state;
}

/// The node snapshots its applied state and compacts, as a driver does.
SnapshotMeta compact(Cluster& c, const NodeId& id) {
  auto& raft = c.raft(id);
  const auto state = state_of(c, id);
  const SnapshotMeta meta{raft.applied(), *raft.log().term_at(raft.applied()), state.size(),
                          raft.configuration_at(raft.applied())};
  c.storage(id).save_snapshot(meta, Payload(state));
  raft.compact(meta);
  return meta;
}

/// A leader "a" of abc that committed `count` entries while "c" was away,
/// then compacted them all.
Cluster cluster_with_c_behind(int count) {
  Cluster c(abc, small_chunks);
  REQUIRE(c.elect("a"));
  c.isolate("c");
  for (int i = 0; i < count; ++i) c.propose("a", "entry" + std::to_string(i));
  c.deliver();
  compact(c, "a");
  return c;
}

/// The configuration the chunks here carry (thesis §5.1).
Configuration chunk_members() {
  return Configuration{.voters = {"a", "b"}, .outgoing = {}, .learners = {}, .addresses = {}};
}

SnapshotRequest chunk(Index index, Term term, std::uint64_t size, std::uint64_t offset,
                      std::string data) {
  const bool done = offset + data.size() == size;
  return SnapshotRequest{.index = index,
                         .snapshot_term = term,
                         .size = size,
                         .offset = offset,
                         .data = Payload(data),
                         .done = done,
                         .configuration = chunk_members()};
}

}  // namespace

TEST_CASE("§7 compaction drops the entries a snapshot holds, keeping trailing_entries") {
  Cluster c(abc, [](Config& config) { config.trailing_entries = 2; });
  REQUIRE(c.elect("a"));
  for (int i = 0; i < 6; ++i) c.propose("a", "x");
  c.deliver();
  const auto meta = compact(c, "a");

  CHECK(meta.index == 7);  // the no-op and six entries
  CHECK(c.raft("a").snapshot() == meta);
  CHECK(c.raft("a").log().base_index() == 5);
  CHECK(c.raft("a").log().first_index() == 6);
  CHECK(c.raft("a").log().term_at(5) == meta.term);
  CHECK_FALSE(c.raft("a").log().term_at(4));
}

TEST_CASE("§7 compacting beyond the applied index, or with a wrong term, is refused") {
  Cluster c(abc);
  REQUIRE(c.elect("a"));
  c.propose("a", "x");
  c.deliver();
  const auto applied = c.raft("a").applied();
  const auto term = *c.raft("a").log().term_at(applied);

  CHECK_THROWS_AS(c.raft("a").compact({applied + 1, term, 10}), std::invalid_argument);
  CHECK_THROWS_AS(c.raft("a").compact({applied, term + 1, 10}), std::invalid_argument);
  CHECK_THROWS_AS(c.raft("a").compact({applied, term, 0}), std::invalid_argument);
  CHECK(c.raft("a").snapshot().index == 0);
}

TEST_CASE("§7 a follower that needs compacted entries is sent the snapshot, then the log") {
  auto c = cluster_with_c_behind(5);
  const auto snapshot = c.raft("a").snapshot();
  c.heal();
  c.tick_all(3);

  CHECK(c.raft("c").snapshot() == snapshot);
  CHECK(c.storage("c").snapshot() == snapshot);
  CHECK(c.storage("c").snapshot_data() == c.storage("a").snapshot_data());
  CHECK(c.raft("c").commit() == c.raft("a").commit());
  // After the snapshot the leader is back to normal replication.
  c.propose("a", "after");
  c.deliver();
  CHECK(c.raft("c").log().last_index() == c.raft("a").log().last_index());
  const auto status = c.raft("a").status();
  for (const auto& peer : status.peers) CHECK(peer.state == ProgressState::replicate);
}

TEST_CASE("§7 a snapshot travels in chunks of max_bytes_per_message, a window at a time") {
  auto c = cluster_with_c_behind(5);
  const auto size = c.raft("a").snapshot().size;
  REQUIRE(size > 16);
  c.heal();
  const auto before = c.delivered().size();
  c.tick("a");  // heartbeat: the leader finds c behind its log
  c.deliver();
  REQUIRE(c.raft("c").snapshot().index > 0);

  std::uint64_t expected = 0;
  int in_flight = 0;
  bool done = false;
  for (auto i = before; i < c.delivered().size(); ++i) {
    const auto& m = c.delivered()[i];
    if (auto* request = std::get_if<SnapshotRequest>(&m.body)) {
      CHECK(++in_flight <= 2);  // max_inflight_chunks
      CHECK(request->data.size() <= 8);
      CHECK(request->offset == expected);
      expected += request->data.size();
      done = request->done;
    } else if (std::holds_alternative<SnapshotResponse>(m.body)) {
      --in_flight;
    }
  }
  CHECK(expected == size);
  CHECK(done);
}

TEST_CASE("§7 a lost chunk is sent again from the follower's offset") {
  auto c = cluster_with_c_behind(5);
  const auto snapshot = c.raft("a").snapshot();
  bool dropped = false;
  c.heal();
  c.drop_if([&](const Message& m) {
    auto* request = std::get_if<SnapshotRequest>(&m.body);
    if (!request || request->offset != 8 || dropped) return false;
    dropped = true;
    return true;
  });
  c.tick_all(4);

  CHECK(dropped);
  CHECK(c.raft("c").snapshot() == snapshot);
  CHECK(c.storage("c").snapshot_data() == c.storage("a").snapshot_data());
}

TEST_CASE("§7 a follower that restarts mid-snapshot is sent it again from the start") {
  auto c = cluster_with_c_behind(5);
  c.heal();
  c.tick("a");
  c.deliver();  // a window of chunks in, answered
  c.take_sent();
  c.restart("c");
  c.tick_all(4);

  CHECK(c.raft("c").snapshot() == c.raft("a").snapshot());
  CHECK(c.storage("c").snapshot_data() == c.storage("a").snapshot_data());
}

TEST_CASE("§7 a restarted node loads its snapshot and keeps only the log after it") {
  auto c = cluster_with_c_behind(5);
  const auto snapshot = c.raft("a").snapshot();
  c.propose("a", "after");
  c.deliver();
  c.restart("a");

  CHECK(c.raft("a").snapshot() == snapshot);
  CHECK(c.raft("a").log().base_index() == snapshot.index);
  CHECK(c.raft("a").applied() == c.raft("a").commit());
  CHECK(c.applied_payloads("a") == std::vector<std::string>{"after"});
}

TEST_CASE("§7 installing keeps the entries after the snapshot when the log matches there") {
  Cluster c({"a", "b"});
  c.load("b", HardState{.term = 2, .vote = "", .commit = 1}, entries_with_terms({1, 2, 2, 2}));
  c.step(msg("a", "b", 2, chunk(3, 2, 4, 0, "abcd")));

  CHECK(c.raft("b").snapshot() == SnapshotMeta{3, 2, 4, chunk_members()});
  CHECK(c.raft("b").commit() == 3);
  CHECK(c.raft("b").log().base_index() == 3);
  CHECK(c.raft("b").log().last_index() == 4);  // entry 4 stays
  CHECK(c.storage("b").last_index() == 4);
  CHECK(c.storage("b").term_at(4) == 2);
}

TEST_CASE("§7 installing discards the whole log when it does not match the snapshot") {
  Cluster c({"a", "b"});
  c.load("b", HardState{.term = 3, .vote = "", .commit = 1}, entries_with_terms({1, 1, 1, 1}));
  c.step(msg("a", "b", 3, chunk(3, 2, 4, 0, "abcd")));

  CHECK(c.raft("b").log().base_index() == 3);
  CHECK(c.raft("b").log().last_index() == 3);
  CHECK(c.storage("b").last_index() == 3);
  const auto replies = bodies_of<SnapshotResponse>(c.queued(), "a");
  REQUIRE(replies.size() == 1);
  CHECK(replies.front().match == 3);
}

TEST_CASE(
    "§7 a node that crashed between installing a snapshot and saving its new term restarts in "
    "that term") {
  Cluster c({"a", "b"});
  c.load("b", HardState{.term = 3, .vote = "a", .commit = 1}, entries_with_terms({1, 1}));
  // The chunk of a leader of term 5 is b's first word of that term.
  REQUIRE(c.raft("b").step(msg("a", "b", 5, chunk(4, 5, 4, 0, "abcd"))).ok());
  const Ready ready = c.raft("b").ready();
  REQUIRE(ready.hard_state);
  for (const auto& written : ready.snapshot_chunks) c.storage("b").write_chunk(written);
  // The crash: the snapshot is installed, the hard state of term 5 is not.
  REQUIRE(c.storage("b").hard_state().term == 3);
  c.restart("b");

  CHECK(c.raft("b").term() == 5);
  CHECK(c.raft("b").snapshot().index == 4);
  CHECK(c.storage("b").hard_state().term == 5);  // its first Ready wrote it
  CHECK(c.storage("b").hard_state().vote.empty());
}

TEST_CASE("§7 a stored entry beyond the stored term still refuses a restart") {
  Cluster c({"a", "b"});
  CHECK_THROWS_WITH_AS(
      c.load("b", HardState{.term = 1, .vote = "", .commit = 0}, entries_with_terms({1, 2})),
      "the last stored entry has term 2, beyond the stored term 1", std::invalid_argument);
}

TEST_CASE("§7 a snapshot at or below the commit index is ignored, answered with the commit") {
  Cluster c({"a", "b"});
  c.load("b", HardState{.term = 2, .vote = "", .commit = 3}, entries_with_terms({1, 2, 2, 2}));
  c.step(msg("a", "b", 2, chunk(2, 2, 4, 0, "abcd")));

  CHECK(c.raft("b").snapshot().index == 0);
  CHECK(c.raft("b").log().last_index() == 4);
  const auto replies = bodies_of<SnapshotResponse>(c.queued(), "a");
  REQUIRE(replies.size() == 1);
  CHECK(replies.front().match == 3);
}

TEST_CASE("§7 a follower refuses chunks that break the protocol, naming what was wrong") {
  Cluster c({"a", "b"});
  c.load("b", HardState{.term = 2, .vote = "", .commit = 0}, {});
  const auto before = observe(c.raft("b"));
  struct Case {
    SnapshotRequest request;
    const char* reason;
  };
  auto wrong_done = chunk(5, 2, 8, 0, "abcd");
  wrong_done.done = true;
  const Case cases[] = {
      {chunk(5, 2, 8, 6, "abcd"), "exceeds the snapshot's 8 bytes"},
      {wrong_done, "marked last"},
      {chunk(5, 3, 4, 0, "abcd"), "beyond the term"},
      {chunk(0, 2, 4, 0, "abcd"), "index 0"},
      {chunk(5, 2, 4, 0, ""), "empty"},
  };
  for (const auto& [request, reason] : cases) {
    CAPTURE(reason);
    const auto result = c.raft("b").step(msg("a", "b", 2, request));
    CHECK(result.error == StepError::malformed);
    CHECK(result.reason.find(reason) != std::string::npos);
    CHECK(result.reason.find("snapshot message from \"a\"") != std::string::npos);
  }
  CHECK(observe(c.raft("b")) == before);
  CHECK_FALSE(c.raft("b").has_ready());
}

TEST_CASE(
    "§7 a chunk out of order or of an unknown snapshot is answered with the offset expected") {
  Cluster c({"a", "b"});
  c.load("b", HardState{.term = 2, .vote = "", .commit = 0}, {});
  SUBCASE("of a snapshot not being received") {
    const auto result = c.step(msg("a", "b", 2, chunk(5, 2, 8, 4, "efgh")));
    CHECK(result.error == StepError::unexpected_chunk);
    CHECK(result.reason.find("where offset 0 was expected") != std::string::npos);
    const auto replies = bodies_of<SnapshotResponse>(c.queued(), "a");
    REQUIRE(replies.size() == 1);
    CHECK(replies.front().offset == 0);
  }
  SUBCASE("past the bytes received") {
    REQUIRE(c.step(msg("a", "b", 2, chunk(5, 2, 12, 0, "abcd"))).ok());
    c.take_sent();
    const auto result = c.step(msg("a", "b", 2, chunk(5, 2, 12, 8, "ijkl")));
    CHECK(result.error == StepError::unexpected_chunk);
    const auto replies = bodies_of<SnapshotResponse>(c.queued(), "a");
    REQUIRE(replies.size() == 1);
    CHECK(replies.front().offset == 4);
  }
  SUBCASE("a duplicate first chunk does not start the snapshot over") {
    REQUIRE(c.step(msg("a", "b", 2, chunk(5, 2, 12, 0, "abcd"))).ok());
    REQUIRE(c.step(msg("a", "b", 2, chunk(5, 2, 12, 4, "efgh"))).ok());
    c.take_sent();
    CHECK(c.step(msg("a", "b", 2, chunk(5, 2, 12, 0, "abcd"))).error ==
          StepError::unexpected_chunk);
    const auto replies = bodies_of<SnapshotResponse>(c.queued(), "a");
    REQUIRE(replies.size() == 1);
    CHECK(replies.front().offset == 8);
  }
  CHECK(c.raft("b").snapshot().index == 0);
  CHECK(c.raft("b").commit() == 0);
}

TEST_CASE("§7 an AppendEntries reaching into the compacted prefix matches at the base") {
  Cluster c({"a", "b"});
  c.load("b", HardState{.term = 2, .vote = "", .commit = 0}, {});
  REQUIRE(c.step(msg("a", "b", 2, chunk(3, 2, 4, 0, "abcd"))).ok());
  c.take_sent();
  c.step(msg("a", "b", 2, append(1, 1, entries_with_terms({2, 2, 2}, 2), 4)));

  CHECK(c.raft("b").log().last_index() == 4);
  CHECK(c.raft("b").commit() == 4);
  const auto replies = bodies_of<AppendResponse>(c.queued(), "a");
  REQUIRE(replies.size() == 1);
  CHECK(replies.front().success);
  CHECK(replies.front().match_index == 4);
}

TEST_CASE("§7 a leader whose storage does not hold its newest snapshot yet sends it later") {
  Cluster c(abc, small_chunks);
  REQUIRE(c.elect("a"));
  c.isolate("c");
  for (int i = 0; i < 5; ++i) c.propose("a", "entry" + std::to_string(i));
  c.deliver();
  // The core knows the snapshot before the storage does (as a node that has
  // just installed one while its Ready is still being written).
  auto& raft = c.raft("a");
  const auto state = state_of(c, "a");
  const SnapshotMeta meta{raft.applied(), *raft.log().term_at(raft.applied()), state.size(),
                          raft.configuration_at(raft.applied())};
  raft.compact(meta);
  c.heal();
  CHECK_NOTHROW(c.tick_all(2));
  CHECK(c.raft("c").snapshot().index == 0);
  c.storage("a").save_snapshot(meta, Payload(state));
  c.tick_all(3);
  CHECK(c.raft("c").snapshot() == meta);
}
