// The typed form: a reducer and methods written with plain structs.

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <conflux/conflux.hpp>
#include <conflux/transport/memory_channel.hpp>

#include "transport/run_until.hpp"

namespace counter {

struct State {
  std::int64_t value = 0;
};
struct Add {
  std::int64_t n = 0;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const State& s) {
  v = {{"value", s.value}};
}
State tag_invoke(boost::json::value_to_tag<State>, const boost::json::value& v) {
  return State{v.at("value").to_number<std::int64_t>()};
}
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const Add& a) {
  v = {{"add", a.n}};
}
Add tag_invoke(boost::json::value_to_tag<Add>, const boost::json::value& v) {
  return Add{v.at("add").to_number<std::int64_t>()};
}

}  // namespace counter

using namespace conflux;
using conflux::test::run_until;

TEST_CASE("typed: a struct reducer and struct methods drive a counter") {
  boost::asio::io_context io;
  transport::InProcessNetwork network;
  Options options;
  options.id = "solo";
  options.peers = {{"solo", ""}};
  options.channel = InProcessChannelOptions{&network};
  options.reduce =
      typed_reducer<counter::State, counter::Add>([](counter::State s, const counter::Add& a) {
        s.value += a.n;
        return s;
      });
  options.methods["incr"] = typed_method<counter::State, counter::Add, std::int64_t>(
      [](const counter::State&, std::int64_t n) { return counter::Add{n}; });
  options.methods["decr_if_positive"] = typed_method<counter::State, counter::Add, std::int64_t>(
      [](const counter::State& s, std::int64_t n) -> std::optional<counter::Add> {
        if (s.value - n < 0) return std::nullopt;
        return counter::Add{-n};
      });
  Node node(io.get_executor(), options);
  CHECK(node.state() == boost::json::value({{"value", 0}}));

  int done = 0;
  std::string refusal;
  node.perform("incr", {5}, [&](std::exception_ptr, boost::json::value) { ++done; });
  node.perform("decr_if_positive", {9}, [&](std::exception_ptr, boost::json::value v) {
    CHECK(v.is_null());  // nothing appended
    ++done;
  });
  node.perform("incr", {"five"}, [&](std::exception_ptr e, boost::json::value) {
    try {
      std::rethrow_exception(e);
    } catch (const Error& error) {
      refusal = error.what();
    }
    ++done;
  });
  REQUIRE(run_until(io, [&] { return done == 3; }));
  CHECK(node.state() == boost::json::value({{"value", 5}}));
  CHECK(refusal.find("argument 1 does not match the method: ") == 0);
  // Plain words for a remote caller: no Boost source location.
  CHECK(refusal.find(".hpp") == std::string::npos);
  CHECK(refusal.find("boost") == std::string::npos);
  node.close([] {});
  io.run_for(std::chrono::seconds(5));
}
