// Unit tests of Config::validate() and of the Raft constructor's checks:
// every problem is reported, and each message names the option at fault.
#include <doctest/doctest.h>

#include <conflux/raft/raft.hpp>
#include <stdexcept>
#include <string>

using namespace conflux::raft;

namespace {

Config valid_config() {
  return Config{.id = "a", .voters = {"a", "b", "c"}};
}

/// The only error of `config`, which must have exactly one.
std::string only_error(const Config& config) {
  const auto errors = config.validate();
  REQUIRE(errors.size() == 1);
  return errors.front();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a complete config with default options is valid") {
  CHECK(valid_config().validate().empty());
  CHECK(Config{.id = "solo", .voters = {"solo"}}.validate().empty());
}

TEST_CASE("an empty id is refused, naming \"id\"") {
  Config config = valid_config();
  config.id = "";
  CHECK(contains(only_error(config), "\"id\""));
}

TEST_CASE("an id that is not among the voters is refused, naming \"id\" and \"voters\"") {
  Config config = valid_config();
  config.id = "z";
  const std::string error = only_error(config);
  CHECK(contains(error, "\"id\""));
  CHECK(contains(error, "\"voters\""));
  CHECK(contains(error, "z"));
}

TEST_CASE("voters may be empty (join mode), but hold no empty ids or duplicates") {
  SUBCASE("no voters: a node that an existing cluster will add") {
    Config config = valid_config();
    config.voters.clear();
    CHECK(config.validate().empty());
  }
  SUBCASE("an empty id among the voters") {
    Config config = valid_config();
    config.voters.push_back("");
    CHECK(contains(only_error(config), "\"voters\""));
  }
  SUBCASE("a voter listed twice") {
    Config config = valid_config();
    config.voters.push_back("b");
    const std::string error = only_error(config);
    CHECK(contains(error, "\"voters\""));
    CHECK(contains(error, "\"b\""));
  }
}

TEST_CASE("heartbeat_ticks below 1 is refused, naming \"heartbeat_ticks\"") {
  Config config = valid_config();
  config.heartbeat_ticks = 0;
  CHECK(contains(only_error(config), "\"heartbeat_ticks\""));
}

TEST_CASE("election_ticks_min must exceed heartbeat_ticks, naming both") {
  Config config = valid_config();
  config.heartbeat_ticks = 10;
  config.election_ticks_min = 10;
  const std::string error = only_error(config);
  CHECK(contains(error, "\"election_ticks_min\""));
  CHECK(contains(error, "\"heartbeat_ticks\""));
}

TEST_CASE("election_ticks_max below election_ticks_min is refused, naming \"election_ticks_max\"") {
  Config config = valid_config();
  config.election_ticks_min = 10;
  config.election_ticks_max = 9;
  CHECK(contains(only_error(config), "\"election_ticks_max\""));
  config.election_ticks_max = 10;  // a fixed timeout is allowed
  CHECK(config.validate().empty());
}

TEST_CASE("zero max_entries_per_message or max_inflight_messages is refused, naming the option") {
  Config config = valid_config();
  config.max_entries_per_message = 0;
  CHECK(contains(only_error(config), "\"max_entries_per_message\""));
  config = valid_config();
  config.max_inflight_messages = 0;
  CHECK(contains(only_error(config), "\"max_inflight_messages\""));
}

TEST_CASE("every problem of a config is reported at once") {
  Config config = valid_config();
  config.id = "";
  config.heartbeat_ticks = 0;
  config.max_inflight_messages = 0;
  CHECK(config.validate().size() == 3);
}

TEST_CASE("the Raft constructor refuses an invalid config with a message naming the option") {
  Config config = valid_config();
  config.election_ticks_max = 1;
  const MemoryStorage storage;
  CHECK_THROWS_WITH_AS(Raft(config, storage), doctest::Contains("\"election_ticks_max\""),
                       std::invalid_argument);
}

TEST_CASE("the Raft constructor refuses stored state whose commit lies beyond the last entry") {
  MemoryStorage storage;
  storage.append(std::vector<Entry>{Entry{1, 1, EntryType::normal, Payload("x")}});
  storage.save_hard_state(HardState{.term = 1, .vote = "", .commit = 2});
  CHECK_THROWS_AS(Raft(valid_config(), storage), std::invalid_argument);
}

TEST_CASE("a node restores its term, vote and commit from storage as a follower") {
  MemoryStorage storage;
  storage.append(std::vector<Entry>{Entry{1, 1, EntryType::normal, Payload("x")},
                                    Entry{2, 2, EntryType::normal, Payload("y")}});
  storage.save_hard_state(HardState{.term = 3, .vote = "b", .commit = 1});
  const Raft raft(valid_config(), storage);
  CHECK(raft.role() == Role::follower);
  CHECK(raft.term() == 3);
  CHECK(raft.status().vote == "b");
  CHECK(raft.commit() == 1);
  CHECK(raft.log().last_index() == 2);
  CHECK(raft.leader().empty());
}

TEST_CASE("ConfigurationLog::voter_since: a voter in force at the index or in any later entry") {
  using conflux::raft::Configuration;
  using conflux::raft::ConfigurationLog;
  const auto with = [](std::vector<conflux::raft::NodeId> voters,
                       std::vector<conflux::raft::NodeId> learners) {
    return Configuration{.voters = std::move(voters),
                         .outgoing = {},
                         .learners = std::move(learners),
                         .addresses = {}};
  };
  ConfigurationLog log(0, with({"a", "b", "c"}, {"d"}), true);
  log.append(5, with({"a", "b", "c", "d"}, {}));  // d promoted
  log.append(8, with({"a", "b", "c"}, {}));       // d removed
  CHECK(log.voter_since(0, "d"));  // a lagging commit still sees the promotion after it
  CHECK(log.voter_since(6, "d"));
  CHECK_FALSE(log.voter_since(8, "d"));
  CHECK_FALSE(log.voter_since(0, "e"));
  ConfigurationLog learner(0, with({"a", "b", "c"}, {"d"}), true);
  learner.append(3, with({"a", "b", "c"}, {"d", "e"}));
  CHECK_FALSE(learner.voter_since(0, "d"));
}
