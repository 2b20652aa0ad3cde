#pragma once
// The live dashboard (apps/dashboard: plain HTML, CSS and an ES module,
// embedded in the binary). An HTTP server of its own serves the page, and
// /ws pushes a snapshot of every node whenever one changes and takes
// commands: perform on any node, and, where the source allows, kill,
// restart, isolate and heal.

#include <boost/asio/any_io_executor.hpp>
#include <conflux/node.hpp>
#include <conflux/options.hpp>
#include <conflux/transport/tls.hpp>
#include <memory>
#include <string>
#include <vector>

namespace conflux::server {

struct DashboardNode {
  std::string id;
  std::string http_url;  ///< the node's HTTP API, if it has one
  Node* node = nullptr;  ///< null while the node is stopped
};

/// What the dashboard shows and controls.
class DashboardSource {
 public:
  virtual ~DashboardSource() = default;
  virtual std::vector<DashboardNode> nodes() = 0;
  /// Whether kill, restart, isolate and heal are offered.
  virtual bool has_controls() const { return false; }
  /// Runs one of them on node `id`; returns why it could not ("" when done).
  virtual std::string control(const std::string& op, const std::string& id);
};

struct DashboardOptions {
  std::string listen = "127.0.0.1:0";
  LogSink log;
  /// Set: the page's WebSocket (which reads every node and performs on any)
  /// must carry it as /ws?token=...; the page passes on its own URL's query,
  /// so open the dashboard as http://host:port/?token=<token>. Others get 401.
  std::string token = {};
  /// Set: HTTPS and wss:// only, with this certificate and key (the
  /// token then never travels in clear). Throws std::invalid_argument
  /// naming a file that cannot be used.
  transport::TlsFiles tls = {};
};

class Dashboard {
 public:
  /// Binds at once (std::system_error naming the address on failure).
  Dashboard(boost::asio::any_io_executor executor, DashboardSource& source,
            DashboardOptions options);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  std::string url() const;  ///< http://host:port/ (https:// with TLS)
  void start();
  /// Stops listening and closes every page's connection.
  void stop();
  /// Reads the certificate and key again; new connections use them. "" once
  /// reloaded (or without TLS), else why not, and the ones in use stay.
  std::string reload_tls();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace conflux::server
