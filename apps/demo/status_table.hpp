#pragma once
// The demo's terminal view: one row per node (role, term, leader, commit,
// applied), as plain text.

#include <string>

#include "demo_cluster.hpp"

namespace conflux::demo {

std::string status_table(DemoCluster& cluster);

}  // namespace conflux::demo
