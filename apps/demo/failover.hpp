#pragma once
// conflux-demo --scenario failover: perform a few actions, kill the leader
// and watch the re-election, perform again, restart the old leader and
// watch it catch up, then check that every node holds the same state.

#include <boost/asio/awaitable.hpp>
#include <ostream>

#include "demo_cluster.hpp"

namespace conflux::demo {

/// Narrates on `out`; true when every node ends with the expected state.
/// Throws std::runtime_error when a step does not happen in time.
boost::asio::awaitable<bool> run_failover(DemoCluster& cluster, std::ostream& out);

}  // namespace conflux::demo
