#pragma once
// Blocking look-ups of a node's HTTP API before a run: GET /status of every
// node until the cluster is ready.

#include <boost/json/value.hpp>
#include <chrono>
#include <conflux/node.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace conflux::bench {

/// GETs `path` from "host:port" and parses the body as JSON; nullopt on any
/// failure, a status other than 200, or after `timeout`.
std::optional<boost::json::value> get_json(const std::string& address, const std::string& path,
                                           std::chrono::milliseconds timeout);

/// The NodeStatus that GET /status describes, or nullopt if it is not one.
std::optional<NodeStatus> status_from_json(const boost::json::value& json);

struct ReadyLeader {
  std::size_t index = 0;  ///< in `addresses`
  std::string id;
};

/// Polls GET /status on every node until the cluster is ready (see
/// cluster_ready.hpp) and returns its leader. Between rounds calls
/// `check`, which throws to give up (a process died, Ctrl-C). Throws
/// std::runtime_error after `timeout`, describing what each node said.
ReadyLeader wait_for_leader(const std::vector<std::string>& addresses,
                            std::chrono::milliseconds timeout, const std::function<void()>& check);

}  // namespace conflux::bench
