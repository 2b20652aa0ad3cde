#include "apps/daemon_cluster.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>
#include <deque>
#include <fstream>
#include <sstream>

#include "apps/poll_until.hpp"

namespace conflux::test {
namespace {

namespace json = boost::json;

std::string loopback(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

std::string tail(const std::filesystem::path& file, std::size_t lines) {
  std::ifstream in(file);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& line : last) out += line + '\n';
  return out;
}

}  // namespace

std::filesystem::path node_binary() {
  return CONFLUX_NODE_BINARY;
}

std::optional<DaemonStatus> parse_status(const std::string& body) {
  boost::system::error_code ec;
  const auto value = json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& object = value.get_object();
  const auto* role = object.if_contains("role");
  const auto* term = object.if_contains("term");
  if (!role || !role->is_string() || !term || !term->is_number()) return std::nullopt;
  DaemonStatus status;
  status.id = json::value_to<std::string>(object.at("id"));
  status.role = json::value_to<std::string>(*role);
  status.term = json::value_to<std::uint64_t>(*term);
  if (const auto* leader = object.if_contains("leader"); leader && leader->is_string())
    status.leader = json::value_to<std::string>(*leader);
  status.commit = json::value_to<std::uint64_t>(object.at("commit"));
  status.applied = json::value_to<std::uint64_t>(object.at("applied"));
  status.last_index = json::value_to<std::uint64_t>(object.at("last_index"));
  return status;
}

DaemonCluster::DaemonCluster(std::size_t size, std::vector<std::string> flags, DaemonClient client)
    : flags_(std::move(flags)), client_(std::move(client)) {
  for (std::size_t i = 0; i < size; ++i)
    members_.push_back(Member{"n" + std::to_string(i + 1), {}, {}, nullptr, {}});
  for (std::size_t i = 0; i < size; ++i) start(i);
}

std::size_t DaemonCluster::join(std::size_t via) {
  return join_through(loopback(http_port(via)));
}

std::size_t DaemonCluster::join_through(const std::string& address) {
  const auto i = members_.size();
  members_.push_back(Member{"n" + std::to_string(i + 1), {}, {}, nullptr, address});
  start(i);
  return i;
}

std::vector<std::string> DaemonCluster::command_line(std::size_t i) const {
  const auto& self = members_.at(i);
  std::vector<std::string> args{"--id",
                                self.id,
                                "--listen",
                                self.peer_port.address(),
                                "--http",
                                self.http_port.address(),
                                "--data-dir",
                                (directory() / (self.id + ".data")).string(),
                                "--election-timeout",
                                "150-300",
                                "--heartbeat",
                                "30",
                                "--perform-timeout",
                                "2000"};
  if (!self.join.empty()) {
    args.insert(args.end(), {"--join", self.join});
  } else {
    for (const auto& member : members_) {
      if (!member.join.empty()) continue;
      args.push_back("--peer");
      args.push_back(member.id + "=" + member.peer_port.address());
    }
  }
  for (auto flag : flags_) {  // "{id}" stands for the node's id (its certificate, say)
    for (auto at = flag.find("{id}"); at != std::string::npos; at = flag.find("{id}"))
      flag.replace(at, 4, self.id);
    args.push_back(std::move(flag));
  }
  return args;
}

void DaemonCluster::start(std::size_t i) {
  auto& member = members_.at(i);
  member.process.reset();  // reaps (by SIGKILL) a previous process still running
  member.process = std::make_unique<ChildProcess>(node_binary(), command_line(i),
                                                  directory() / (member.id + ".log"));
}

std::vector<std::uint16_t> DaemonCluster::http_ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& member : members_) ports.push_back(member.http_port.port());
  return ports;
}

bool DaemonCluster::live(std::size_t i) const {
  const auto& process = *members_.at(i).process;
  return process.running() && !process.paused();
}

HttpReply DaemonCluster::request(std::size_t i, const std::string& method,
                                 const std::string& target, const std::string& body,
                                 std::chrono::milliseconds timeout) const {
  HttpHeaders headers;
  if (!client_.token.empty()) headers.emplace_back("Authorization", "Bearer " + client_.token);
  if (!client_.tls.authority.empty()) {
    return https_request(http_port(i), method, target, body, client_.tls, headers, timeout);
  }
  return http_request(http_port(i), method, target, body, timeout, headers);
}

std::optional<DaemonStatus> DaemonCluster::status(std::size_t i,
                                                  std::chrono::milliseconds timeout) const {
  const auto reply = request(i, "GET", "/status", "", timeout);
  if (reply.status != 200) return std::nullopt;
  return parse_status(reply.body);
}

HttpReply DaemonCluster::perform(std::size_t i, const std::string& method,
                                 const boost::json::array& args,
                                 std::chrono::milliseconds timeout) const {
  return request(i, "POST", "/perform/" + method, json::serialize(args), timeout);
}

std::optional<std::size_t> DaemonCluster::agreed_leader() const {
  std::optional<std::string> leader;
  std::size_t claiming = 0;
  std::optional<std::size_t> index;
  for (std::size_t i = 0; i < size(); ++i) {
    if (!live(i)) continue;
    const auto s = status(i, 500ms);
    if (!s || s->leader.empty() || (leader && *leader != s->leader)) return std::nullopt;
    leader = s->leader;
    if (s->role == "leader") {
      ++claiming;
      index = i;
    }
  }
  if (claiming != 1 || id(*index) != *leader) return std::nullopt;
  return index;
}

std::optional<std::size_t> DaemonCluster::wait_for_leader(std::chrono::milliseconds timeout) const {
  std::optional<std::size_t> found;
  poll_until([&] { return (found = agreed_leader()).has_value(); }, timeout);
  return found;
}

std::optional<json::value> DaemonCluster::same_state() const {
  std::optional<json::value> state;
  for (std::size_t i = 0; i < size(); ++i) {
    if (!live(i)) continue;
    const auto reply = request(i, "GET", "/state", "", 1s);
    boost::system::error_code ec;
    auto value = json::parse(reply.body, ec);
    if (reply.status != 200 || ec || (state && *state != value)) return std::nullopt;
    state = std::move(value);
  }
  return state;
}

std::optional<json::value> DaemonCluster::wait_for_same_state(
    std::chrono::milliseconds timeout) const {
  std::optional<json::value> state;
  poll_until([&] { return (state = same_state()).has_value(); }, timeout);
  return state;
}

std::string DaemonCluster::logs() const {
  std::ostringstream out;
  for (const auto& member : members_) {
    const auto file = directory() / (member.id + ".log");
    out << "--- last lines of " << file.string() << " ---\n" << tail(file, 40);
  }
  return out.str();
}

}  // namespace conflux::test
