// The built-in apps (apps/builtin) for browser tabs: linked into the
// WebAssembly module that apps/CMakeLists.txt builds, it registers them with
// the browser driver before any node is built.
#include "app_catalog.hpp"

#include "apps.hpp"

namespace {

const bool registered = [] {
  conflux::browser::register_apps([](const std::string& name, conflux::Options& options) {
    const auto app = conflux::apps::by_name(name);
    if (app) app->install(options);
    return app.has_value();
  });
  return true;
}();

}  // namespace
