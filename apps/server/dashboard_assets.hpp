#pragma once
// The dashboard's files (apps/dashboard), embedded at build time.

#include <optional>
#include <string_view>

namespace conflux::server {

struct Asset {
  std::string_view content_type;
  std::string_view body;
};

/// The file served at `path` ("/", "/app.js", "/style.css"), if any.
std::optional<Asset> dashboard_asset(std::string_view path);

}  // namespace conflux::server
