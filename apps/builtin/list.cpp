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
  app.reduce_in_place = [](boost::json::value& state, const boost::json::value& action) {
    if (!state.is_array()) state = boost::json::array{};
    if (action.is_object() && action.get_object().contains("x"))
      state.get_array().push_back(action.at("x"));
  };
  return app;
}

}  // namespace conflux::apps
