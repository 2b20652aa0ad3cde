#include <boost/json.hpp>
#include <conflux/errors.hpp>

#include "apps.hpp"

namespace conflux::apps {

App list() {
  App app;
  app.methods["append"] = [](const boost::json::value&,
                             const boost::json::array& args) -> boost::json::value {
    if (args.size() != 1) throw Rejection("append takes 1 argument");
    return boost::json::object{{"op", "append"}, {"x", args[0]}};
  };
  app.reduce = [](const boost::json::value& state,
                  const boost::json::value& action) -> boost::json::value {
    boost::json::array next = state.is_array() ? state.get_array() : boost::json::array{};
    if (action.is_object() && action.get_object().contains("x")) next.push_back(action.at("x"));
    return next;
  };
  return app;
}

}  // namespace conflux::apps
