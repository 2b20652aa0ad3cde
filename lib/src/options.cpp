#include <conflux/options.hpp>
#include <conflux/transport/address.hpp>
#include <conflux/transport/redis_url.hpp>
#include <set>

namespace conflux {
namespace {

void check_peers(const Options& options, std::vector<std::string>& errors) {
  std::set<std::string> seen;
  bool self_listed = false;
  for (const auto& peer : options.peers) {
    if (peer.id.empty()) errors.push_back("\"peers\" must not contain an empty id");
    if (!seen.insert(peer.id).second) errors.push_back("\"peers\" lists \"" + peer.id + "\" twice");
    self_listed = self_listed || peer.id == options.id;
    const bool tcp = std::holds_alternative<TcpChannelOptions>(options.channel);
    if (tcp && peer.id != options.id && peer.address.empty()) {
      errors.push_back("\"peers\": \"" + peer.id + "\" needs an address for the tcp channel");
    }
  }
  if (options.peers.empty()) errors.push_back("\"peers\" must list at least one node");
  if (!options.id.empty() && !options.peers.empty() && !self_listed) {
    errors.push_back("\"id\" (\"" + options.id + "\") must be one of \"peers\"");
  }
}

void check_channel(const Options& options, std::vector<std::string>& errors) {
  if (std::holds_alternative<std::monostate>(options.channel)) {
    errors.push_back(
        "\"channel\" must be chosen: InProcessChannelOptions, TcpChannelOptions, "
        "WebSocketChannelOptions or RedisChannelOptions");
  }
  if (auto* in_process = std::get_if<InProcessChannelOptions>(&options.channel);
      in_process && !in_process->network) {
    errors.push_back("\"channel\": the in-process network must point to an InProcessNetwork");
  }
  if (auto* tcp = std::get_if<TcpChannelOptions>(&options.channel); tcp && tcp->listen.empty())
    errors.push_back("\"channel\": the tcp listen address must not be empty");
  if (auto* websocket = std::get_if<WebSocketChannelOptions>(&options.channel)) {
    try {
      transport::parse_hub_url(websocket->hub);
    } catch (const std::invalid_argument& error) {
      errors.push_back(std::string("\"channel\": ") + error.what());
    }
  }
  if (auto* redis = std::get_if<RedisChannelOptions>(&options.channel)) {
    try {
      transport::parse_redis_url(redis->url);
    } catch (const std::invalid_argument& error) {
      errors.push_back(std::string("\"channel\": ") + error.what());
    }
    if (redis->max_in_flight_bytes < (64 << 10))
      errors.push_back("\"channel\": the Redis max_in_flight_bytes must be at least 64 KiB");
    if (redis->cluster.empty() || redis->cluster.find(':') != std::string::npos)
      errors.push_back("\"channel\": the Redis cluster name must be non-empty, without ':'");
    if (options.id.find(':') != std::string::npos)
      errors.push_back(
          "\"id\" must not contain ':' over Redis (channels are conflux:<cluster>:<id>)");
  }
}

void check_timing(const Options& options, std::vector<std::string>& errors) {
  const auto& election = options.election_timeout;
  if (election.min.count() <= 0) errors.push_back("\"election_timeout.min\" must be positive");
  if (election.max < election.min) {
    errors.push_back(
        "\"election_timeout.max\" must be larger than or equal to \"election_timeout.min\"");
  }
  if (options.heartbeat_interval.count() <= 0) {
    errors.push_back("\"heartbeat_interval\" must be positive");
  } else if (options.heartbeat_interval >= election.min) {
    errors.push_back("\"heartbeat_interval\" must be smaller than \"election_timeout.min\"");
  }
  if (options.perform_timeout.count() < 0)
    errors.push_back("\"perform_timeout\" must not be negative");
  if (options.session_timeout < std::chrono::seconds(1))
    errors.push_back("\"session_timeout\" must be at least 1 s");
  const double drift = options.read_lease.max_clock_drift;
  if (!(drift >= 0 && drift < 0.5))
    errors.push_back("\"read_lease.max_clock_drift\" must be at least 0 and below 0.5");
}

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warning:
      return "warning";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "unknown";
}

std::vector<std::string> Options::validate() const {
  std::vector<std::string> errors;
  if (id.empty()) errors.push_back("\"id\" must not be empty");
  check_peers(*this, errors);
  check_channel(*this, errors);
  if (!reduce && !reduce_in_place)
    errors.push_back("a reducer is required: set \"reduce\" or \"reduce_in_place\"");
  if (reduce && reduce_in_place)
    errors.push_back("\"reduce\" and \"reduce_in_place\" exclude each other: set one");
  for (const auto& [name, method] : methods) {
    if (name.empty()) errors.push_back("\"methods\" must not contain an empty name");
    if (!method) errors.push_back("\"methods\": \"" + name + "\" has no function");
    if (name.rfind("conflux.", 0) == 0) {
      errors.push_back("\"methods\": \"" + name + "\" starts with \"conflux.\", which is reserved");
    }
  }
  check_timing(*this, errors);
  if (data_dir && data_dir->empty()) errors.push_back("\"data_dir\" must not be empty when set");
  if (snapshot.trailing_entries > 1'000'000) {
    errors.push_back(
        "\"snapshot.trailing_entries\" must be at most 1000000 (each is kept in memory)");
  }
  return errors;
}

}  // namespace conflux
