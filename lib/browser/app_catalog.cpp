#include "app_catalog.hpp"

namespace conflux::browser {
namespace {

AppInstaller& installer() {
  static AppInstaller registered;
  return registered;
}

}  // namespace

void register_apps(AppInstaller chosen) {
  installer() = std::move(chosen);
}

bool install_app(const std::string& name, Options& options) {
  return installer() && installer()(name, options);
}

}  // namespace conflux::browser
