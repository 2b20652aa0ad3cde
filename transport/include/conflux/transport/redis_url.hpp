#pragma once
// Redis URLs and channel names, without the channel (no Asio): options
// validation and flag parsing read them too.

#include <string>
#include <string_view>

namespace conflux::transport {

/// redis://[[user]:password@]host[:port][/db]; %XX escapes in the user and
/// password. Port 6379 and database 0 by default.
struct RedisUrl {
  std::string host;
  std::string port = "6379";
  std::string user;  ///< empty: AUTH with the password alone (or none)
  std::string password;
  unsigned db = 0;
};

/// Throws std::invalid_argument naming what is wrong with `url`.
RedisUrl parse_redis_url(std::string_view url);

/// The pub/sub channel that node `id` of `cluster` listens on.
std::string redis_channel_name(std::string_view cluster, std::string_view id);

}  // namespace conflux::transport
