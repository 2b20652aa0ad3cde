// The built-in apps: methods and reducers alone, then kv through a node.

#include <doctest/doctest.h>

#include <apps.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>

#include "transport/run_until.hpp"

using namespace conflux;
namespace json = boost::json;

namespace {

/// The state after `action`, with whichever reducer the app has.
json::value reduce(const apps::App& app, json::value state, const json::value& action) {
  if (app.reduce) return app.reduce(state, action);
  app.reduce_in_place(state, action);
  return state;
}

/// Runs `method` on `state` and reduces its action: what a one-node cluster does.
json::value run(const apps::App& app, json::value state, const std::string& method,
                json::array args) {
  const auto action = app.methods.at(method)(state, args);
  return action.is_null() ? state : reduce(app, state, action);
}

std::string refusal(const apps::App& app, const json::value& state, const std::string& method,
                    json::array args) {
  try {
    app.methods.at(method)(state, args);
  } catch (const std::exception& error) {
    return error.what();
  }
  return {};
}

}  // namespace

TEST_CASE("kv: put, append, del, cas, and get as a query that appends nothing") {
  const auto kv = apps::kv();
  auto state = reduce(kv, nullptr, nullptr);
  CHECK(state == json::object{});
  state = run(kv, state, "put", {"a", 1});
  state = run(kv, state, "put", {"s", "foo"});
  state = run(kv, state, "append", {"s", "bar"});
  state = run(kv, state, "append", {"new", "x"});
  CHECK(state == json::value({{"a", 1}, {"s", "foobar"}, {"new", "x"}}));
  state = run(kv, state, "cas", {"a", 1, 2});
  CHECK(state.at("a") == 2);
  state = run(kv, state, "del", {"new"});
  CHECK_FALSE(state.as_object().contains("new"));
  CHECK(kv.methods.at("del")(state, {"absent"}).is_null());  // nothing to delete: nothing appended
  CHECK_FALSE(kv.methods.count("get"));                      // a read is not an action
  CHECK(kv.queries.at("get")(state, {"s"}) == "foobar");
  CHECK(kv.queries.at("get")(state, {"absent"}).is_null());
}

TEST_CASE("kv: a value is at most 3 MiB serialized, so that any stored value can be written back") {
  const auto kv = apps::kv();
  const std::string half(apps::kv_max_value_bytes / 2, 'x');
  auto state = run(kv, nullptr, "put", {"s", half});
  state = run(kv, state, "append", {"s", std::string(half.size() - 2, 'y')});  // exactly 3 MiB
  CHECK(refusal(kv, state, "append", {"s", "z"}).find("append: the value would be larger") == 0);
  // Escapes count: a quote is two bytes serialized.
  const std::string quotes(apps::kv_max_value_bytes / 2, '"');
  CHECK(refusal(kv, nullptr, "put", {"q", quotes}).find("put: the value would be larger") == 0);
  const std::string big(apps::kv_max_value_bytes, 'x');
  CHECK(refusal(kv, state, "put", {"t", big}).find("put: the value would be larger") == 0);
  CHECK(refusal(kv, state, "cas", {"t", nullptr, big}).find("cas: the value would be larger") == 0);
  // The largest value still fits in a cas, with the expected value beside it.
  const auto value = kv.queries.at("get")(state, {"s"});
  CHECK(run(kv, state, "cas", {"s", value, value}).at("s") == value);
}

TEST_CASE("kv: refusals name what was wrong") {
  const auto kv = apps::kv();
  const json::value state = {{"a", 1}, {"n", 5}};
  CHECK(refusal(kv, state, "cas", {"a", 7, 8}) == "cas failed for \"a\": expected 7, found 1");
  CHECK(refusal(kv, state, "cas", {"b", 7, 8}) == "cas failed for \"b\": expected 7, found null");
  CHECK(refusal(kv, state, "put", {"a"}) == "put takes 2 arguments");
  CHECK(refusal(kv, state, "put", {3, 4}) == "put: the key must be a non-empty string");
  CHECK(refusal(kv, state, "append", {"n", "x"}) == "append: \"n\" does not hold a string");
  CHECK(refusal(kv, state, "append", {"n", 1}) == "append: the value must be a string");
}

TEST_CASE("counter (typed API): incr and decr") {
  const auto counter = apps::counter();
  auto state = reduce(counter, nullptr, nullptr);
  state = run(counter, state, "incr", {5});
  state = run(counter, state, "decr", {2});
  CHECK(state == json::value({{"value", 3}}));
  CHECK(refusal(counter, state, "incr", {"x"}) ==
        "argument 1 does not match the method: not a number");
  CHECK(refusal(counter, state, "incr", {1, 2}) == "the method takes 1 argument, not 2");
}

TEST_CASE("list: append") {
  const auto list = apps::list();
  auto state = reduce(list, nullptr, nullptr);
  state = run(list, state, "append", {"a"});
  state = run(list, state, "append", {json::object{{"b", 1}}});
  CHECK(state == json::value(json::array{"a", json::object{{"b", 1}}}));
}

TEST_CASE("tictactoe: two players join, X wins a row; every illegal move is refused by name") {
  const auto game = apps::tictactoe();
  auto state = reduce(game, nullptr, nullptr);
  CHECK(refusal(game, state, "claim", {"X", 0}) == "Waiting for the other player!");
  CHECK(game.methods.at("join")(state, {}) == json::parse(R"({"type":"join","player":"X"})"));
  state = run(game, state, "join", {});
  state = run(game, state, "join", {});
  CHECK(refusal(game, state, "join", {}) == "The game is full!");
  CHECK(refusal(game, state, "claim", {"O", 0}) == "It is not your turn!");
  CHECK(refusal(game, state, "claim", {"X", 9}) == "There is no such cell!");
  CHECK(refusal(game, state, "claim", {"Z", 0}) == "The player must be \"X\" or \"O\"!");
  CHECK(refusal(game, state, "claim", {"X"}) == "this move takes 2 arguments");
  for (const auto& [player, cell] :
       std::vector<std::pair<const char*, int>>{{"X", 0}, {"O", 3}, {"X", 1}, {"O", 4}}) {
    state = run(game, state, "claim", {player, cell});
  }
  CHECK(refusal(game, state, "claim", {"X", 4}) == "That cell is already marked!");
  state = run(game, state, "claim", {"X", 2});
  CHECK(state.at("winner") == "X");
  CHECK(refusal(game, state, "claim", {"O", 5}) == "The game is over!");
  CHECK(refusal(game, state, "forfeit", {"O"}) == "The game is over!");
}

TEST_CASE("tictactoe: a name joins once; its seat is recorded, and asking again is refused") {
  const auto game = apps::tictactoe();
  auto state = run(game, reduce(game, nullptr, nullptr), "join", {"p1"});
  CHECK(state.at("seats") == json::parse(R"({"X":"p1"})"));
  CHECK(refusal(game, state, "join", {"p1"}) == "p1 has already joined as X!");
  CHECK(refusal(game, state, "join", {7}) == "join takes at most one argument, the joiner's name");
  // A second join by p1 that a leader committed anyway changes nothing.
  const auto again = json::parse(R"({"type":"join","player":"O","who":"p1"})");
  CHECK(reduce(game, state, again) == state);
  state = run(game, state, "join", {"p2"});
  CHECK(state.at("seats") == json::parse(R"({"X":"p1","O":"p2"})"));
  CHECK(state.at("players") == json::parse(R"(["X","O"])"));
}

TEST_CASE("tictactoe: a full board, or a tie both offer, is a tie; a forfeit makes the other win") {
  const auto game = apps::tictactoe();
  const auto started = run(game, run(game, reduce(game, nullptr, nullptr), "join", {}), "join", {});
  auto state = started;
  // X O X / X O O / O X X: no line.
  for (const auto& [player, cell] : std::vector<std::pair<const char*, int>>{{"X", 0},
                                                                             {"O", 1},
                                                                             {"X", 2},
                                                                             {"O", 4},
                                                                             {"X", 3},
                                                                             {"O", 5},
                                                                             {"X", 7},
                                                                             {"O", 6},
                                                                             {"X", 8}}) {
    state = run(game, state, "claim", {player, cell});
  }
  CHECK(state.at("tie") == true);
  CHECK(state.at("winner").is_null());

  state = run(game, started, "tie", {"O"});
  CHECK(refusal(game, state, "tie", {"O"}) == "You already offered a tie!");
  CHECK(state.at("tie") == false);
  state = run(game, state, "tie", {"X"});
  CHECK(state.at("tie") == true);

  state = run(game, started, "forfeit", {"X"});
  CHECK(state.at("winner") == "O");
}

TEST_CASE("tictactoe: a committed move no method would make changes nothing") {
  const auto game = apps::tictactoe();
  const auto started = run(game, run(game, reduce(game, nullptr, nullptr), "join", {}), "join", {});
  for (const auto* text :
       {R"({"type":"claim","player":"X","cell":-1})", R"({"type":"claim","player":"X","cell":9})",
        R"({"type":"claim","player":"X","cell":4294967296})",
        R"({"type":"claim","player":"O","cell":0})", R"({"type":"claim","player":"X","cell":"0"})",
        R"({"type":"join","player":"X"})", R"({"type":"forfeit","player":"Z"})",
        R"({"type":"claim","player":7,"cell":0})", R"({"type":"claim"})", R"(["claim"])"}) {
    CAPTURE(text);
    CHECK(reduce(game, started, json::parse(text)) == started);
  }
}

TEST_CASE("apps by name") {
  CHECK(apps::by_name("kv").has_value());
  CHECK(apps::by_name("counter").has_value());
  CHECK(apps::by_name("tictactoe").has_value());
  std::string names = apps::names() + ", ";  // each one it lists exists
  for (auto at = names.find(", "); at != std::string::npos; at = names.find(", ")) {
    CHECK_MESSAGE(apps::by_name(names.substr(0, at)).has_value(), names.substr(0, at));
    names.erase(0, at + 2);
  }
  CHECK(apps::by_name("list").has_value());
  CHECK_FALSE(apps::by_name("chess").has_value());
}

TEST_CASE(
    "kv through a node: a cas mismatch reaches the caller intact; get reads through the log") {
  boost::asio::io_context io;
  transport::InProcessNetwork network;
  Options options;
  options.id = "solo";
  options.peers = {{"solo", ""}};
  options.channel = InProcessChannelOptions{&network};
  auto kv = apps::kv();
  kv.install(options);
  Node node(io.get_executor(), options);
  std::string error;
  json::value read;
  int done = 0;
  node.perform("put", {"k", "v1"}, [&](std::exception_ptr, json::value) { ++done; });
  node.perform("cas", {"k", "nope", "v2"}, [&](std::exception_ptr e, json::value) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const Error& failure) {
      error = failure.what();
    }
    ++done;
  });
  node.perform("get", {"k"}, [&](std::exception_ptr e, json::value) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const Error& failure) {
      read = failure.what();
    }
    ++done;
  });
  REQUIRE(conflux::test::run_until(io, [&] { return done == 3; }));
  CHECK(error == "cas failed for \"k\": expected \"nope\", found \"v1\"");
  CHECK(read == "get is not a registered method");  // a query, served by conflux-node's HTTP API
  CHECK(kv.queries.at("get")(node.state(), {"k"}) == "v1");
  CHECK(node.state() == json::value({{"k", "v1"}}));
  node.close([] {});
  io.run_for(std::chrono::seconds(5));
}

TEST_CASE("bench apps: map in place and map-copy reach the same state; noop and counter") {
  const auto map = apps::bench_map();
  const auto copy = apps::bench_map_copy();
  REQUIRE(map.reduce_in_place);
  REQUIRE(copy.reduce);
  auto a = reduce(map, nullptr, nullptr);
  auto b = reduce(copy, nullptr, nullptr);
  for (int i = 0; i < 10'005; ++i) {
    const std::string payload = "p" + std::to_string(i);
    a = run(map, std::move(a), "write", {payload.c_str()});
    if (i < 20 || i >= 9'990) b = run(copy, std::move(b), "write", {payload.c_str()});
  }
  CHECK(a.at("n") == 10'005);
  CHECK(a.at("m").as_object().size() == 10'000);
  CHECK(a.at("m").at("k4") == "p10004");  // the 10,005th write went to key 4
  CHECK(b.at("n") == 35);
  CHECK(b.at("m").at("k4") == "p4");
  CHECK(reduce(apps::bench_counter(), json::value({{"count", 2}}), json::value({{"w", "x"}})) ==
        json::value({{"count", 3}}));
  CHECK(reduce(apps::bench_noop(), nullptr, nullptr) == json::object{});
}
