// The node's two states (lib/src/engine/state_machine.hpp) driven by a raft::Log:
// followers extending and applying, a replaced log tail, entries applied out
// of step, the leader reducing before it proposes, and refusals.

#include "state_machine.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <new>
#include <stdexcept>
#include <string>

#include "carriable.hpp"

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

namespace {

using conflux::detail::SessionEntry;
using conflux::detail::SessionTable;

raft::Entry session_entry(raft::Index index, raft::Term term, const SessionEntry& session) {
  const auto action = boost::json::serialize(session.action);
  return raft::Entry{term, index, raft::EntryType::session,
                     raft::Payload(conflux::detail::encode(session, action))};
}

SessionEntry open_session(std::uint64_t time, std::uint64_t timeout) {
  SessionEntry session;
  session.kind = SessionEntry::Kind::open;
  session.time = time;
  session.timeout = timeout;
  return session;
}

SessionEntry in_session(std::uint64_t client, std::uint64_t seq, std::uint64_t time,
                        const std::string& thing) {
  SessionEntry session;
  session.client = client;
  session.seq = seq;
  session.ack = 1;
  session.time = time;
  session.action = boost::json::object{{"append", thing}};
  return session;
}

}  // namespace

TEST_CASE(
    "state machine: a (client, seq) carried by two entries is applied once; the second is "
    "answered with the first's outcome, in both states") {
  detail::StateMachine machine(append_reducer);
  raft::Log log(0, 0,
                {session_entry(1, 1, open_session(1000, 60'000)),
                 session_entry(2, 1, in_session(1, 1, 1001, "x")),
                 session_entry(3, 2, in_session(1, 1, 1002, "x")),
                 session_entry(4, 2, in_session(1, 2, 1003, "y"))});
  machine.sync(log);
  CHECK(machine.provisional() == list({"x", "y"}));
  CHECK(machine.standing(1, 1).kind == conflux::detail::SessionStanding::Kind::in_log);
  CHECK(machine.apply(log.at(1)).opened);
  const auto first = machine.apply(log.at(2));
  REQUIRE(first.session);
  CHECK(first.session->verdict == SessionTable::Verdict::fresh);
  const auto second = machine.apply(log.at(3));
  REQUIRE(second.session);
  CHECK(second.session->verdict == SessionTable::Verdict::duplicate);
  CHECK(second.session->result.index == 2);
  CHECK(second.session->result.action() == boost::json::parse(R"({"append":"x"})"));
  CHECK(second.action.is_null());  // nothing to reduce, nothing for subscribers
  machine.apply(log.at(4));
  CHECK(machine.committed() == list({"x", "y"}));
  CHECK(machine.standing(1, 1).kind == conflux::detail::SessionStanding::Kind::applied);
}

TEST_CASE(
    "state machine: sessions expire by the time entries carry, never going back; an expired "
    "session's entries change nothing; sessions survive a restore") {
  detail::StateMachine machine(append_reducer);
  raft::Log log(0, 0,
                {session_entry(1, 1, open_session(1000, 500)),
                 session_entry(2, 1, in_session(1, 1, 1400, "kept")),
                 session_entry(3, 1, in_session(1, 2, 100, "clock went back")),
                 session_entry(4, 1, in_session(1, 3, 2000, "late"))});
  machine.sync(log);
  for (raft::Index i = 1; i <= 3; ++i) machine.apply(log.at(i));
  CHECK(machine.sessions().now() == 1400);
  const auto sessions = machine.sessions().to_json();
  const auto late = machine.apply(log.at(4));  // idle since 1400: expired at 2000
  CHECK(late.expired == std::vector<std::uint64_t>{1});
  REQUIRE(late.session);
  CHECK(late.session->verdict == SessionTable::Verdict::unknown);
  CHECK(machine.committed() == list({"kept", "clock went back"}));

  // Restored as of entry 3, the session is back, with its results.
  machine.restore(list({"kept", "clock went back"}), SessionTable::from_json(sessions), 3);
  CHECK(machine.standing(1, 1).kind == conflux::detail::SessionStanding::Kind::applied);
  CHECK(machine.standing(1, 3).kind == conflux::detail::SessionStanding::Kind::fresh);
  CHECK_THROWS_AS(SessionTable::from_json(boost::json::parse(R"({"now":1})")),
                  std::invalid_argument);
}

TEST_CASE(
    "state machine: a malformed or hostile session entry is refused by name and applied as "
    "nothing") {
  const auto problem = [](const std::string& payload) -> std::string {
    try {
      conflux::detail::decode_session_entry(payload);
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
    return "";
  };
  CHECK(problem(R"({"client":9007199254740992,"seq":1,"ack":0,"time":1,"action":1})")
            .find("\"client\"") != std::string::npos);
  CHECK(problem(R"({"client":1,"seq":-1,"ack":0,"time":1,"action":1})").find("\"seq\"") !=
        std::string::npos);
  CHECK(problem(R"({"client":1,"seq":1.5,"ack":0,"time":1,"action":1})").find("\"seq\"") !=
        std::string::npos);
  CHECK(problem(R"({"client":1,"seq":1,"ack":0,"action":1})").find("\"time\"") !=
        std::string::npos);
  CHECK(problem(R"({"client":1,"seq":1,"ack":0,"time":1})").find("neither") != std::string::npos);
  CHECK(problem(R"({"client":1,"seq":1,"ack":0,"time":1,"result":7})").find("result") !=
        std::string::npos);
  CHECK(problem(R"({"open":true,"time":1})").find("\"timeout\"") != std::string::npos);
  CHECK(problem("[1]").find("not a JSON object") != std::string::npos);
  CHECK(problem(R"({"open":true,"time":1,"timeout":9007199254740991})").empty());

  detail::StateMachine machine(append_reducer);
  raft::Log log(0, 0,
                {raft::Entry{1, 1, raft::EntryType::session, raft::Payload(R"({"client":1})")},
                 entry(2, 1, "after")});
  machine.sync(log);
  const auto bad = machine.apply(log.at(1));
  CHECK(bad.no_op);
  CHECK(bad.reducer_error.find("not a valid session entry") != std::string::npos);
  machine.apply(log.at(2));
  CHECK(machine.committed() == list({"after"}));
  CHECK(machine.provisional() == list({"after"}));
}

TEST_CASE(
    "sessions: past 1,024 outcomes or 16 MiB of entries a session forgets its oldest, whose "
    "sequence numbers become stale; the acknowledgement forgets below it") {
  using Verdict = SessionTable::Verdict;
  SessionTable table;
  table.open(1, 60'000);
  for (std::uint64_t seq = 1; seq <= 1025; ++seq) {
    table.record(1, seq,
                 conflux::detail::SessionResult{seq + 1, raft::Payload("0123456789"), {}, {}});
  }
  CHECK(table.admit(1, 1).verdict == Verdict::stale);
  CHECK(table.admit(1, 2).verdict == Verdict::duplicate);
  CHECK(table.admit(1, 1026).verdict == Verdict::fresh);
  table.touch(1, 1000);
  CHECK(table.admit(1, 999).verdict == Verdict::stale);
  CHECK(table.admit(1, 1000).verdict == Verdict::duplicate);

  table.open(2, 60'000);
  table.record(
      2, 1, conflux::detail::SessionResult{5, raft::Payload(std::string(10 << 20, 'x')), {}, {}});
  table.record(
      2, 2, conflux::detail::SessionResult{6, raft::Payload(std::string(10 << 20, 'x')), {}, {}});
  CHECK(table.admit(2, 1).verdict == Verdict::stale);
  CHECK(table.admit(2, 2).verdict == Verdict::duplicate);  // the newest is always kept
  // And a restored table forgets alike: the bytes travel with the results.
  auto restored = SessionTable::from_json(table.to_json());
  restored.record(
      2, 3, conflux::detail::SessionResult{7, raft::Payload(std::string(10 << 20, 'x')), {}, {}});
  CHECK(restored.admit(2, 2).verdict == Verdict::stale);
}

TEST_CASE("sessions: past 100,000 sessions, opening one drops the one due to expire first") {
  SessionTable table;
  table.advance(1000);
  bool none_dropped = true;
  for (std::uint64_t client = 1; client <= conflux::detail::max_sessions; ++client) {
    none_dropped = none_dropped && !table.open(client, client == 7 ? 10 : 60'000);
  }
  CHECK(none_dropped);
  const auto dropped = table.open(conflux::detail::max_sessions + 1, 60'000);
  REQUIRE(dropped);
  CHECK(*dropped == 7);  // its timeout is the shortest
  CHECK(table.admit(7, 1).verdict == SessionTable::Verdict::unknown);
  CHECK(table.size() == conflux::detail::max_sessions);
}

TEST_CASE("carriable_text: bytes that begin no UTF-8 character become U+FFFD; long texts are cut") {
  using conflux::detail::carriable_text;
  using conflux::detail::max_message_bytes;
  CHECK(carriable_text("plain") == "plain");
  CHECK(carriable_text("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(carriable_text(std::string("caf") + '\xC3') == "caf\xEF\xBF\xBD");
  CHECK(carriable_text("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // an overlong '/'
  CHECK(carriable_text("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(carriable_text(std::string(5000, 'a')).size() == max_message_bytes);
  // Cut at a character's end: 4095 bytes of 'a', then "é" would pass the limit.
  const auto cut = carriable_text(std::string(max_message_bytes - 1, 'a') + "\xC3\xA9");
  CHECK(cut == std::string(max_message_bytes - 1, 'a'));
}
