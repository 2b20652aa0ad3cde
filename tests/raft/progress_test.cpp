// Unit tests of a leader's view of one follower (conflux/raft/progress.hpp):
// Raft §5.3 nextIndex/matchIndex, probe and replicate modes, and the
// pipelining window of thesis §10.2.1.
#include <doctest/doctest.h>

#include <conflux/raft/progress.hpp>

using namespace conflux::raft;

namespace {

/// A progress that has found its follower's match point at `match`.
Progress replicating_at(Index match, std::size_t max_inflight = 3) {
  Progress progress(match + 1, max_inflight, 2);
  progress.on_probe_sent();
  REQUIRE(progress.on_ack(match) == (match > 0));
  REQUIRE(progress.state() == ProgressState::replicate);
  return progress;
}

}  // namespace

TEST_CASE("a new progress probes from the given next index, knowing no match") {
  const Progress progress(6, 4, 2);
  CHECK(progress.state() == ProgressState::probe);
  CHECK(progress.next() == 6);
  CHECK(progress.match() == 0);
  CHECK(progress.inflight() == 0);
  CHECK(progress.can_send());
  CHECK_FALSE(progress.recent_active());
}

TEST_CASE("probe mode keeps one message in flight until an answer or the next heartbeat") {
  Progress progress(6, 4, 2);
  progress.on_probe_sent();
  CHECK_FALSE(progress.can_send());
  progress.on_heartbeat();
  CHECK(progress.can_send());
  CHECK(progress.state() == ProgressState::probe);
}

TEST_CASE("an acknowledgement ends probing: replicate from just past the match") {
  Progress progress(6, 4, 2);
  progress.on_probe_sent();
  CHECK(progress.on_ack(5));
  CHECK(progress.state() == ProgressState::replicate);
  CHECK(progress.match() == 5);
  CHECK(progress.next() == 6);
  CHECK(progress.can_send());
}

TEST_CASE("an acknowledgement equal to the known match still ends probing") {
  Progress progress = replicating_at(4);
  REQUIRE(progress.on_reject(6, 5));  // back to probing at 5, match stays 4
  REQUIRE(progress.state() == ProgressState::probe);
  CHECK_FALSE(progress.on_ack(4));                      // match did not advance...
  CHECK(progress.state() == ProgressState::replicate);  // ...but the match point is found
  CHECK(progress.next() == 5);
}

TEST_CASE("a stale acknowledgement below match changes nothing") {
  Progress progress = replicating_at(7);
  CHECK_FALSE(progress.on_ack(3));
  CHECK(progress.match() == 7);
  CHECK(progress.next() == 8);
}

TEST_CASE("replicate mode pipelines up to max_inflight messages; acks free the window") {
  Progress progress = replicating_at(2, 3);
  progress.on_sent(4);
  progress.on_sent(6);
  CHECK(progress.can_send());
  progress.on_sent(7);
  CHECK(progress.inflight() == 3);
  CHECK(progress.next() == 8);
  CHECK_FALSE(progress.can_send());

  CHECK(progress.on_ack(6));  // acknowledges the first two messages at once
  CHECK(progress.inflight() == 1);
  CHECK(progress.match() == 6);
  CHECK(progress.next() == 8);  // optimistic next is kept
  CHECK(progress.can_send());
}

TEST_CASE("a rejection sends a replicating follower back to probing at the resume index") {
  Progress progress = replicating_at(4);
  progress.on_sent(9);
  CHECK(progress.on_reject(7, 6));
  CHECK(progress.state() == ProgressState::probe);
  CHECK(progress.next() == 6);
  CHECK(progress.match() == 4);
  CHECK(progress.inflight() == 0);
  CHECK(progress.can_send());
}

TEST_CASE("a rejection below match, in replicate mode, is stale and ignored") {
  Progress progress = replicating_at(5);
  CHECK_FALSE(progress.on_reject(3, 2));
  CHECK(progress.state() == ProgressState::replicate);
  CHECK(progress.match() == 5);
  CHECK(progress.next() == 6);
}

TEST_CASE("a rejection of anything but the current probe is stale and ignored") {
  Progress progress(10, 4, 2);
  progress.on_probe_sent();
  CHECK_FALSE(progress.on_reject(5, 3));  // answers an older probe
  CHECK(progress.next() == 10);
  CHECK(progress.on_reject(9, 4));  // answers the current probe (prev = next - 1)
  CHECK(progress.next() == 4);
}

TEST_CASE("a rejection at match proves the follower lost its log: match goes down") {
  Progress progress = replicating_at(5);
  CHECK(progress.on_reject(5, 1));  // a heartbeat anchored at match was refused
  CHECK(progress.match() == 0);
  CHECK(progress.next() == 1);
  CHECK(progress.state() == ProgressState::probe);
}

TEST_CASE(
    "a heartbeat with no acknowledgement since the last one, while entries are in flight, falls "
    "back to probing") {
  Progress progress = replicating_at(3);
  progress.on_heartbeat();  // clears the acknowledgement of the probe
  progress.on_sent(6);
  progress.on_heartbeat();
  CHECK(progress.state() == ProgressState::probe);
  CHECK(progress.next() == 4);
  CHECK(progress.match() == 3);
  CHECK(progress.inflight() == 0);
}

TEST_CASE("a heartbeat keeps replicating when acknowledgements arrived or nothing is in flight") {
  Progress progress = replicating_at(3);
  progress.on_heartbeat();
  progress.on_sent(6);
  progress.on_sent(8);
  CHECK(progress.on_ack(6));
  progress.on_heartbeat();
  CHECK(progress.state() == ProgressState::replicate);

  Progress idle = replicating_at(3);
  idle.on_heartbeat();
  idle.on_heartbeat();
  CHECK(idle.state() == ProgressState::replicate);
}

TEST_CASE("recent_active is plain check-quorum bookkeeping") {
  Progress progress(1, 1, 2);
  progress.set_recent_active(true);
  CHECK(progress.recent_active());
  progress.set_recent_active(false);
  CHECK_FALSE(progress.recent_active());
}

TEST_CASE("progress states have readable names") {
  CHECK(to_string(ProgressState::probe) == "probe");
  CHECK(to_string(ProgressState::replicate) == "replicate");
}
