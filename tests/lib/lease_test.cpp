// Lease reads (thesis §6.4.1) in the engine: a leader holding a lease
// answers at once, and one whose process was stopped past its lease counts
// the time it missed before it answers anything (engine.cpp, ticks_due).
#include <doctest/doctest.h>

#include "lib/engine_cluster.hpp"

using namespace conflux;
using namespace conflux::test;
using boost::json::array;
using boost::json::value;

namespace {

void with_lease(Options& options) {
  options.read_lease.enabled = true;
}

void append_and_wait(EngineCluster& c, std::size_t i, const char* item) {
  const auto id = c.perform(i, "append", {item});
  c.tick_all(5);
  REQUIRE(c.done(id));
  REQUIRE_FALSE(c.done(id)->error);
}

}  // namespace

TEST_CASE("lease reads: a leader holding a lease answers with no heartbeat round") {
  EngineCluster c(3, with_lease);
  const auto leader = c.elect();
  append_and_wait(c, leader, "a");
  c.isolate(leader);  // nobody can answer a round now; the lease still holds
  const auto read = c.read(leader);
  REQUIRE(c.done(read));
  REQUIRE_FALSE(c.done(read)->error);
  CHECK(c.done(read)->result == value(array{"a"}));
}

TEST_CASE("lease reads: a leader stopped past its lease answers no read from before") {
  EngineCluster c(3, with_lease);
  const auto old_leader = c.elect();
  append_and_wait(c, old_leader, "a");
  c.pause(old_leader);
  std::size_t new_leader = old_leader;
  for (int t = 0; t < 100 && new_leader == old_leader; ++t) {
    c.tick_all();
    for (std::size_t i = 0; i < 3; ++i) {
      if (i != old_leader && c.engine(i).raft().role() == raft::Role::leader) new_leader = i;
    }
  }
  REQUIRE(new_leader != old_leader);
  append_and_wait(c, new_leader, "b");
  c.pause(old_leader, false);
  // Resumed: it still believes it leads, with a lease that ran out while it
  // was stopped. Its first act is the read, before any tick or message.
  REQUIRE(c.engine(old_leader).raft().role() == raft::Role::leader);
  const auto read = c.read(old_leader);
  c.tick_all(30);
  REQUIRE(c.done(read));
  if (!c.done(read)->error) CHECK(c.done(read)->result == value(array{"a", "b"}));
}
