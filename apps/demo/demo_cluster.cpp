#include "demo_cluster.hpp"

#include "apps.hpp"

namespace conflux::demo {

namespace asio = boost::asio;

namespace {

/// Runs `done` after `count` calls of the returned function.
std::function<void()> after(std::size_t count, std::function<void()> done) {
  auto left = std::make_shared<std::size_t>(count);
  return [left, done = std::move(done)] {
    if (--*left == 0) done();
  };
}

}  // namespace

DemoCluster::DemoCluster(asio::any_io_executor executor, DemoOptions options)
    : executor_(executor), options_(std::move(options)), members_(options_.nodes) {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    auto& member = members_[i];
    member.id = "n" + std::to_string(i + 1);
    peers_.push_back({member.id, member.peer_port.address()});
  }
  for (auto& member : members_) start(member);
}

DemoCluster::~DemoCluster() = default;

void DemoCluster::start(Member& member) {
  auto app = apps::kv();
  Options options;
  options.id = member.id;
  options.peers = peers_;
  options.channel =
      TcpChannelOptions{.listen = member.peer_port.address(), .cluster = "conflux-demo"};
  app.install(options);
  options.perform_timeout = std::chrono::seconds(5);
  options.data_dir = options_.data_dir / member.id;
  options.log = [log = options_.log, id = member.id](LogLevel level, std::string_view line) {
    log(level, id + ": " + std::string(line));
  };
  member.node = std::make_unique<Node>(executor_, std::move(options));
  member.api = std::make_unique<server::NodeApi>(
      *member.node, [http = &member.http] { return &(*http)->counters(); }, app.queries);
  member.http = std::make_unique<server::HttpServer>(
      executor_,
      server::HttpServerOptions{.listen = member.http_port.address(),
                                .body_limit = 1 << 20,
                                .header_timeout = std::chrono::seconds(2),
                                .request_timeout = std::chrono::seconds(10),
                                .max_connections = 256,
                                .max_connections_per_address = 256,
                                .log = options_.log,
                                .access_log = false},
      std::ref(*member.api));
  member.http->start();
}

std::string DemoCluster::http_url(std::size_t i) const {
  return "http://" + members_.at(i).http_port.address();
}

int DemoCluster::leader() const {
  int found = -1;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!members_[i].node || members_[i].node->status().role != "leader") continue;
    if (found >= 0) return -1;
    found = static_cast<int>(i);
  }
  return found;
}

// The HTTP server waits for requests in flight, which end once the node is
// closed (their performs fail) or, for GET /log waits, at stop_waiting():
// stop all, then drop them.
void DemoCluster::kill(std::size_t i, std::function<void()> done) {
  auto& member = members_.at(i);
  if (!member.node || member.stopping) return done();
  member.stopping = true;
  auto finished = after(2, [this, i, done = std::move(done)] {
    auto& m = members_.at(i);
    m.stopping = false;
    m.http.reset();
    m.api.reset();
    m.node.reset();
    done();
  });
  member.api->stop_waiting();
  member.http->stop(finished);
  member.node->close(finished);
}

void DemoCluster::restart(std::size_t i) {
  if (!members_.at(i).node) start(members_.at(i));
}

void DemoCluster::stop(std::function<void()> done) {
  auto finished = after(members_.size(), std::move(done));
  for (std::size_t i = 0; i < members_.size(); ++i) kill(i, finished);
}

std::vector<server::DashboardNode> DemoCluster::nodes() {
  std::vector<server::DashboardNode> shown;
  for (std::size_t i = 0; i < members_.size(); ++i)
    shown.push_back({members_[i].id, http_url(i), members_[i].node.get()});
  return shown;
}

std::string DemoCluster::control(const std::string& op, const std::string& id) {
  std::size_t i = 0;
  while (i < members_.size() && members_[i].id != id) ++i;
  if (i == members_.size()) return "no node " + id;
  auto& member = members_[i];
  if (op == "restart") {
    if (member.node) return id + " is " + (member.stopping ? "still stopping" : "running");
    restart(i);
    return "";
  }
  if (!member.node || member.stopping) return id + " is not running";
  if (op == "kill") {
    kill(i, [] {});
  } else if (op == "isolate" || op == "heal") {
    member.node->set_isolated(op == "isolate");
  } else {
    return "unknown control \"" + op + "\"";
  }
  return "";
}

}  // namespace conflux::demo
