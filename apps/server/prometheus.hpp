#pragma once
// Renders a node's metrics in the Prometheus text exposition format 0.0.4
// (docs/operations.md lists every metric).

#include <conflux/node.hpp>
#include <string>

#include "http_server.hpp"

namespace conflux::server {

/// `http` may be null (no HTTP counters).
std::string prometheus_text(const NodeStatus& status, const NodeMetrics& metrics,
                            const HttpCounters* http);

}  // namespace conflux::server
