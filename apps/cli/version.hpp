#pragma once
// --version, alike on every executable: "conflux-hub 0.1.0" on stdout.

#include <conflux/version.hpp>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace conflux::cli {

/// Whether `args` ask for the version (--version first: anywhere else it
/// may be an argument); if so, prints "<program> <version>" and the caller
/// exits with 0.
inline bool printed_version(const std::vector<std::string>& args, std::string_view program) {
  if (args.empty() || args.front() != "--version") return false;
  std::cout << program << ' ' << conflux::version << '\n';
  return true;
}

}  // namespace conflux::cli
