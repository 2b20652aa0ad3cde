#pragma once
// The C++ apps a tab can run by name, as conflux({app: 'tictactoe'}) asks:
// the choice for clusters that mix tabs with native conflux-node peers,
// which must reduce identically. The library knows no app (apps/ is a
// later layer): the build that links apps in registers them at start-up
// (apps/browser/app_catalog.cpp).

#include <conflux/options.hpp>
#include <functional>
#include <string>

namespace conflux::browser {

/// Sets `options`' methods and reducer for the app called `name`; false if
/// there is no such app.
using AppInstaller = std::function<bool(const std::string& name, Options& options)>;

/// Called once, before any TabNode is built.
void register_apps(AppInstaller installer);

/// What the registered installer says (false when none is registered).
bool install_app(const std::string& name, Options& options);

}  // namespace conflux::browser
