#pragma once
// When a cluster is ready to be measured, whichever way its nodes are
// reached: a leader, known to every node, with every peer connected. A
// cluster that has merely elected someone still has followers that do not
// know it (a perform sent there waits) or links being dialled: measuring
// then would put start-up in the figures.

#include <conflux/node.hpp>
#include <optional>
#include <vector>

namespace conflux::bench {

/// The index of the leader if the cluster is ready; `statuses[i]` is unset
/// when node i did not answer.
std::optional<std::size_t> ready_leader(const std::vector<std::optional<NodeStatus>>& statuses);

}  // namespace conflux::bench
