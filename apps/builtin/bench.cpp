#include <boost/json.hpp>
#include <conflux/errors.hpp>

#include "apps.hpp"

namespace conflux::apps {
namespace {

namespace json = boost::json;

Method write_method() {
  return [](const json::value&, const json::array& args) -> json::value {
    if (args.size() != 1) throw Rejection("write takes 1 argument");
    return json::object{{"w", args[0]}};
  };
}

}  // namespace

App bench_noop() {
  App app;
  app.methods["write"] = write_method();
  app.reduce_in_place = [](json::value& state, const json::value&) {
    if (state.is_null()) state = json::object{};
  };
  return app;
}

App bench_counter() {
  App app;
  app.methods["write"] = write_method();
  app.reduce_in_place = [](json::value& state, const json::value& action) {
    if (!state.is_object()) state = json::object{{"count", 0}};
    auto& count = state.get_object()["count"];
    if (!count.is_int64()) count = 0;
    if (action.is_object() && action.get_object().contains("w")) count = count.get_int64() + 1;
  };
  return app;
}

namespace {

constexpr std::int64_t map_keys = 10'000;

/// {"n": actions so far, "m": {"k<i>": payload}}: action n stores its
/// payload under key n mod 10,000, so the state grows to 10,000 payloads.
/// Everything is read and built first, then changed (strong guarantee).
void map_reduce(json::value& state, const json::value& action) {
  if (!state.is_object()) state = json::object{{"n", 0}, {"m", json::object{}}};
  if (!action.is_object() || !action.get_object().contains("w")) return;
  auto& object = state.get_object();
  const auto n = object.at("n").to_number<std::int64_t>();
  auto& map = object.at("m").as_object();
  map.insert_or_assign("k" + std::to_string(n % map_keys), action.at("w"));
  object.at("n") = n + 1;
}

}  // namespace

App bench_map() {
  App app;
  app.methods["write"] = write_method();
  app.reduce_in_place = map_reduce;
  return app;
}

App bench_map_copy() {
  App app;
  app.methods["write"] = write_method();
  app.reduce = [](const json::value& state, const json::value& action) {
    json::value next = state;
    map_reduce(next, action);
    return next;
  };
  return app;
}

std::optional<App> by_name(const std::string& name) {
  if (name == "kv") return kv();
  if (name == "counter") return counter();
  if (name == "list") return list();
  if (name == "tictactoe") return tictactoe();
  if (name == "bench-noop") return bench_noop();
  if (name == "bench-counter") return bench_counter();
  if (name == "bench-map") return bench_map();
  if (name == "bench-map-copy") return bench_map_copy();
  return std::nullopt;
}

std::string names() {
  return "kv, counter, list, tictactoe, bench-noop, bench-counter, bench-map, bench-map-copy";
}

}  // namespace conflux::apps
