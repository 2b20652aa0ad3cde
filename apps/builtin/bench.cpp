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
  app.reduce = [](const json::value& state, const json::value&) -> json::value {
    return state.is_null() ? json::value(json::object{}) : state;
  };
  return app;
}

App bench_counter() {
  App app;
  app.methods["write"] = write_method();
  app.reduce = [](const json::value& state, const json::value& action) -> json::value {
    const auto* count = state.is_object() ? state.get_object().if_contains("count") : nullptr;
    const std::int64_t before = count && count->is_int64() ? count->get_int64() : 0;
    const bool counted = action.is_object() && action.get_object().contains("w");
    return json::object{{"count", before + (counted ? 1 : 0)}};
  };
  return app;
}

std::optional<App> by_name(const std::string& name) {
  if (name == "kv") return kv();
  if (name == "counter") return counter();
  if (name == "list") return list();
  if (name == "bench-noop") return bench_noop();
  if (name == "bench-counter") return bench_counter();
  return std::nullopt;
}

}  // namespace conflux::apps
