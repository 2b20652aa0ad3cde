// parse_redis_url and redis_channel_name (redis_channel.hpp).
#include <charconv>
#include <conflux/transport/redis_url.hpp>
#include <stdexcept>

namespace conflux::transport {
namespace {

[[noreturn]] void refuse(std::string_view url, const std::string& why) {
  throw std::invalid_argument("Redis URL \"" + std::string(url) + "\": " + why);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view url, std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    const int low = high >= 0 ? hex_digit(text[i + 2]) : -1;
    if (low < 0) refuse(url, "a % in the user or password is not followed by two hex digits");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// "[user]:password" or "password"... Redis URLs put the password after a
// colon: "user:pass", ":pass"; a lone name is a password-less user, which
// Redis cannot authenticate, so it is refused.
void read_credentials(std::string_view url, std::string_view text, RedisUrl& out) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos)
    refuse(url, "credentials must be user:password or :password");
  out.user = percent_decoded(url, text.substr(0, colon));
  out.password = percent_decoded(url, text.substr(colon + 1));
  if (out.password.empty()) refuse(url, "the password is empty");
}

void read_host_port(std::string_view url, std::string_view text, RedisUrl& out) {
  std::string_view host = text, port;
  if (text.starts_with('[')) {  // [v6]:port
    const auto close = text.find(']');
    if (close == std::string_view::npos) refuse(url, "an IPv6 host lacks its ]");
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) refuse(url, "junk after the IPv6 host");
    if (!rest.empty()) port = rest.substr(1);
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) refuse(url, "the host is missing");
  out.host = std::string(host);
  if (port.empty() && text.find(':') == std::string_view::npos) return;
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (ec != std::errc{} || end != port.data() + port.size() || number == 0 || number > 65535)
    refuse(url, "the port must be a number from 1 to 65535");
  out.port = std::string(port);
}

}  // namespace

RedisUrl parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme))
    refuse(url, "must start with redis:// (rediss:// and unix sockets are not supported)");
  auto rest = url.substr(scheme.size());
  RedisUrl out;
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    const auto db = rest.substr(slash + 1);
    if (!db.empty()) {
      const auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), out.db);
      if (ec != std::errc{} || end != db.data() + db.size() || out.db > 1'000'000)
        refuse(url, "the database after / must be a number");
    }
  }
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) read_credentials(url, authority.substr(0, at), out);
  read_host_port(url, at == std::string_view::npos ? authority : authority.substr(at + 1), out);
  return out;
}

std::string redis_channel_name(std::string_view cluster, std::string_view id) {
  return "conflux:" + std::string(cluster) + ":" + std::string(id);
}

}  // namespace conflux::transport
