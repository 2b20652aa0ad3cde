#pragma once
// Log lines on standard error for the daemons:
//   2026-11-22T16:40:01.123Z info    [n1] leader in term 3

#include <conflux/options.hpp>
#include <string>

namespace conflux::server {

/// A sink that prints lines at `threshold` or more severe, tagged with `tag`.
LogSink console_log(LogLevel threshold, std::string tag);

}  // namespace conflux::server
