// The node's two states (lib/src/engine/state_machine.hpp) driven by a raft::Log:
// followers extending and applying, a replaced log tail, entries applied out
// of step, the leader reducing before it proposes, and refusals.

#include "state_machine.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <new>
#include <stdexcept>
#include <string>

using namespace conflux;
using boost::json::array;
using boost::json::value;

namespace {

/// Appends action["append"] to a list; refuses {"poison":...} before changing anything.
void append_reducer(value& state, const value& action) {
  if (!state.is_array()) state = array{};
  if (!action.is_object()) return;
  if (action.get_object().contains("poison")) throw std::runtime_error("poison");
  if (action.get_object().contains("oom")) throw std::bad_alloc();
  if (const auto* thing = action.get_object().if_contains("append"))
    state.get_array().push_back(*thing);
}

raft::Entry entry(raft::Index index, raft::Term term, const std::string& thing) {
  return raft::Entry{term, index, raft::EntryType::normal,
                     raft::Payload(R"({"append":")" + thing + R"("})")};
}

value list(std::initializer_list<boost::json::value_ref> items) {
  return array(items);
}

}  // namespace

TEST_CASE("state machine: a follower extends the provisional state and applies in order") {
  detail::StateMachine machine(append_reducer);
  CHECK(machine.committed() == array{});
  raft::Log log;
  for (raft::Index i = 1; i <= 3; ++i) log.append(entry(i, 1, std::string(1, char('a' + i - 1))));
  machine.sync(log);
  CHECK(machine.provisional() == list({"a", "b", "c"}));
  CHECK(machine.committed() == array{});
  const auto applied = machine.apply(log.at(1));
  CHECK(applied.action == value({{"append", "a"}}));
  CHECK(machine.committed() == list({"a"}));
  CHECK(machine.provisional() == list({"a", "b", "c"}));
  machine.apply(log.at(2));
  machine.apply(log.at(3));
  CHECK(machine.committed() == machine.provisional());
}

TEST_CASE("state machine: a replaced uncommitted tail is rebuilt from the committed state") {
  detail::StateMachine machine(append_reducer);
  raft::Log log;
  log.append(entry(1, 1, "a"));
  log.append(entry(2, 1, "b"));
  log.append(entry(3, 1, "c"));
  machine.sync(log);
  machine.apply(log.at(1));
  log.truncate_from(2);  // a new leader's log wins from index 2 on
  log.append(entry(2, 2, "x"));
  machine.sync(log);
  CHECK(machine.provisional() == list({"a", "x"}));
  CHECK(machine.committed() == list({"a"}));
  CHECK(machine.apply(log.at(2)).action == value({{"append", "x"}}));
  CHECK(machine.committed() == list({"a", "x"}));
}

TEST_CASE("state machine: an entry applied out of step never leaves a wrong provisional state") {
  detail::StateMachine machine(append_reducer);
  raft::Log log;
  log.append(entry(1, 1, "a"));
  log.append(entry(2, 1, "b"));
  machine.sync(log);
  log.truncate_from(1);
  log.append(entry(1, 2, "y"));  // replaced, and applied before any sync
  machine.apply(log.at(1));
  CHECK(machine.committed() == list({"y"}));
  CHECK(machine.provisional() == list({"y"}));  // stale: the committed state, never "a", "b"
  machine.sync(log);
  CHECK(machine.provisional() == list({"y"}));
}

TEST_CASE(
    "state machine: the leader reduces before proposing; a refusal or no proposal changes "
    "nothing") {
  detail::StateMachine machine(append_reducer);
  raft::Log log;
  log.append(entry(1, 1, "a"));
  machine.sync(log);
  CHECK_THROWS_AS(machine.reduce_provisional(value({{"poison", true}})), std::runtime_error);
  CHECK(machine.provisional() == list({"a"}));

  const value b = {{"append", "b"}};
  machine.reduce_provisional(b);
  log.append(entry(2, 1, "b"));
  machine.proposed(2, 1, b);
  CHECK(machine.provisional() == list({"a", "b"}));
  machine.sync(log);  // nothing new: no rebuild, no double reduction
  CHECK(machine.provisional() == list({"a", "b"}));

  machine.reduce_provisional(value({{"append", "never proposed"}}));
  CHECK(machine.provisional() == array{});  // stale meanwhile: the committed state
  machine.sync(log);
  CHECK(machine.provisional() == list({"a", "b"}));
}

TEST_CASE("state machine: running out of memory is not a reducer refusal") {
  detail::StateMachine machine(append_reducer);
  raft::Log log;
  log.append(raft::Entry{1, 1, raft::EntryType::normal, raft::Payload(R"({"oom":1})")});
  CHECK_THROWS_AS(machine.sync(log), std::bad_alloc);
  CHECK_THROWS_AS(machine.apply(log.at(1)), std::bad_alloc);
  auto refused = raft::Entry{1, 2, raft::EntryType::normal, raft::Payload(R"({"poison":1})")};
  log.append(refused);
  CHECK(machine.apply(log.at(2)).reducer_error == "poison");  // a refusal: reported, state kept
}

TEST_CASE("state machine: a log that starts after applied() waits for restore()") {
  detail::StateMachine machine(append_reducer);
  raft::Log log(0, 0, {entry(1, 1, "a"), entry(2, 1, "b")});
  machine.sync(log);
  machine.apply(log.at(1));
  // The core installed a snapshot at 5: the log now starts at 6.
  raft::Log compacted(5, 2, {entry(6, 2, "f")});
  machine.sync(compacted);  // no entry below 6 is read
  CHECK(machine.provisional() == machine.committed());
  machine.restore(list({"a", "b", "c", "d", "e"}), {}, 5);
  machine.sync(compacted);
  CHECK(machine.provisional() == list({"a", "b", "c", "d", "e", "f"}));
  const auto applied = machine.apply(compacted.at(6));
  CHECK(applied.index == 6);
  CHECK(machine.committed() == list({"a", "b", "c", "d", "e", "f"}));
}
