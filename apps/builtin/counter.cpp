// The counter app, written with the typed API to dogfood it.
#include <boost/json.hpp>
#include <conflux/typed.hpp>

#include "apps.hpp"

namespace conflux::apps {
namespace {

struct Counter {
  std::int64_t value = 0;
};
struct Add {
  std::int64_t n = 0;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const Counter& c) {
  v = {{"value", c.value}};
}
Counter tag_invoke(boost::json::value_to_tag<Counter>, const boost::json::value& v) {
  return Counter{v.at("value").to_number<std::int64_t>()};
}
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, const Add& a) {
  v = {{"add", a.n}};
}
Add tag_invoke(boost::json::value_to_tag<Add>, const boost::json::value& v) {
  return Add{v.at("add").to_number<std::int64_t>()};
}

}  // namespace

App counter() {
  App app;
  app.reduce = typed_reducer<Counter, Add>([](Counter c, const Add& a) {
    c.value += a.n;
    return c;
  });
  app.methods["incr"] = typed_method<Counter, Add, std::int64_t>(
      [](const Counter&, std::int64_t n) { return Add{n}; });
  app.methods["decr"] = typed_method<Counter, Add, std::int64_t>(
      [](const Counter&, std::int64_t n) { return Add{-n}; });
  return app;
}

}  // namespace conflux::apps
