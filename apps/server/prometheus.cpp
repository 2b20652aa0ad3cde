#include "prometheus.hpp"

#include <array>
#include <charconv>
#include <map>
#include <sstream>

namespace conflux::server {
namespace {

/// Label values escape backslash, double quote and newline.
std::string escaped(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

/// The shortest text that reads back as `value` (0.00025, not 0.00025000000000000001).
std::string number(double value) {
  std::array<char, 32> text{};
  const auto end =
      std::to_chars(text.data(), text.data() + text.size(), value, std::chars_format::general).ptr;
  return std::string(text.data(), end);
}

/// Writes metric families: HELP and TYPE once, then the samples.
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(std::string_view name, const std::string& labels, double value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << number(value) << '\n';
  }
  void histogram(std::string_view name, const std::string& help, const Histogram& h) {
    family(name, "histogram", help);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < Histogram::bounds.size(); ++i) {
      cumulative += h.bucket(i);
      sample(std::string(name) + "_bucket", "le=\"" + number(Histogram::bounds[i]) + "\"",
             static_cast<double>(cumulative));
    }
    sample(std::string(name) + "_bucket", "le=\"+Inf\"", static_cast<double>(h.count()));
    sample(std::string(name) + "_sum", "", h.sum());
    sample(std::string(name) + "_count", "", static_cast<double>(h.count()));
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + escaped(value) + '"';
}

void node_gauges(Exposition& e, const NodeStatus& status) {
  e.family("conflux_term", "gauge", "Current Raft term.");
  e.sample("conflux_term", "", static_cast<double>(status.term));
  e.family("conflux_role", "gauge", "1 for the role this node has now, 0 for the others.");
  for (const char* role : {"follower", "pre_candidate", "candidate", "leader"})
    e.sample("conflux_role", label("role", role), status.role == role ? 1 : 0);
  e.family("conflux_commit_index", "gauge", "Highest log index known committed.");
  e.sample("conflux_commit_index", "", static_cast<double>(status.commit));
  e.family("conflux_applied_index", "gauge", "Highest log index applied to the state.");
  e.sample("conflux_applied_index", "", static_cast<double>(status.applied));
  e.family("conflux_last_index", "gauge", "Index of the last entry in this node's log.");
  e.sample("conflux_last_index", "", static_cast<double>(status.last_index));
  e.family("conflux_storage_failed", "gauge",
           "1 once storage failed and the node stopped acknowledging writes.");
  e.sample("conflux_storage_failed", "", status.error.empty() ? 0 : 1);
  e.family("conflux_refused_connections_total", "counter",
           "Peer connections refused before they could speak, by reason (tls_handshake, "
           "certificate, identity, hello, busy).");
  for (const auto& [reason, count] : status.refusals) {
    e.sample("conflux_refused_connections_total", label("reason", reason),
             static_cast<double>(count));
  }
  e.family("conflux_relay_link_up", "gauge",
           "1 while the channel's link to its relay (hub, redis-server) is up.");
  for (const auto& link : status.links)
    e.sample("conflux_relay_link_up", label("link", link.name), link.up ? 1 : 0);
  e.family("conflux_relay_link_connects_total", "counter",
           "Times the channel's link to its relay got through.");
  for (const auto& link : status.links) {
    e.sample("conflux_relay_link_connects_total", label("link", link.name),
             static_cast<double>(link.connects));
  }
}

void snapshot_counters(Exposition& e, const NodeMetrics& m) {
  e.family("conflux_snapshots_taken_total", "counter", "Snapshots this node took of its state.");
  e.sample("conflux_snapshots_taken_total", "", static_cast<double>(m.snapshots_taken));
  e.histogram("conflux_snapshot_duration_seconds",
              "Taking one snapshot: copying the state, writing it, renaming the file.",
              m.snapshot_duration);
  e.family("conflux_snapshot_bytes", "gauge", "Size of the last snapshot this node took.");
  e.sample("conflux_snapshot_bytes", "", static_cast<double>(m.snapshot_bytes));
  e.family("conflux_snapshots_sent_total", "counter",
           "Snapshots this node sent whole to a follower, as leader.");
  e.sample("conflux_snapshots_sent_total", "", static_cast<double>(m.snapshots_sent));
  e.family("conflux_snapshots_installed_total", "counter",
           "Snapshots this node received from a leader and installed.");
  e.sample("conflux_snapshots_installed_total", "", static_cast<double>(m.snapshots_installed));
}

void node_counters(Exposition& e, const NodeMetrics& m) {
  e.family("conflux_elections_total", "counter", "Elections this node started as a candidate.");
  e.sample("conflux_elections_total", "", static_cast<double>(m.elections));
  e.family("conflux_leaderships_total", "counter", "Times this node became leader.");
  e.sample("conflux_leaderships_total", "", static_cast<double>(m.leaderships));
  e.family("conflux_entries_applied_total", "counter", "Committed entries applied on this node.");
  e.sample("conflux_entries_applied_total", "", static_cast<double>(m.entries_applied));
  e.family("conflux_performs_total", "counter",
           "Performs started on this node, by outcome (ok or the error code).");
  e.sample("conflux_performs_total", label("outcome", "ok"),
           static_cast<double>(m.performs_succeeded));
  for (const auto& [code, count] : m.performs_failed)
    e.sample("conflux_performs_total", label("outcome", code), static_cast<double>(count));
  e.family("conflux_linearizable_reads_total", "counter",
           "Linearizable reads started on this node, by outcome (ok or the error code).");
  e.sample("conflux_linearizable_reads_total", label("outcome", "ok"),
           static_cast<double>(m.reads_served));
  for (const auto& [code, count] : m.reads_failed)
    e.sample("conflux_linearizable_reads_total", label("outcome", code),
             static_cast<double>(count));
  e.family("conflux_refused_messages_total", "counter",
           "Raft messages from peers that the core refused, by reason.");
  for (const auto& [reason, count] : m.refused_messages)
    e.sample("conflux_refused_messages_total", label("reason", reason), static_cast<double>(count));
  e.histogram("conflux_perform_latency_seconds",
              "From perform() to its successful completion on this node.", m.perform_latency);
  e.histogram("conflux_fsync_latency_seconds", "One fdatasync of the write-ahead log.",
              m.fsync_latency);
  snapshot_counters(e, m);
}

void peer_traffic(Exposition& e, const NodeMetrics& m) {
  const auto each = [&](std::string_view name, std::string_view type, std::string_view help,
                        auto value) {
    e.family(name, type, help);
    for (const auto& peer : m.peers)
      e.sample(name, label("peer", peer.id), static_cast<double>(value(peer)));
  };
  each("conflux_peer_connected", "gauge", "1 while a connection to the peer is up.",
       [](const PeerTraffic& p) { return p.connected ? 1 : 0; });
  each("conflux_peer_received_bytes_total", "counter", "Bytes received from the peer.",
       [](const PeerTraffic& p) { return p.bytes_in; });
  each("conflux_peer_sent_bytes_total", "counter", "Bytes sent to the peer.",
       [](const PeerTraffic& p) { return p.bytes_out; });
  each("conflux_peer_received_frames_total", "counter", "Frames received from the peer.",
       [](const PeerTraffic& p) { return p.frames_in; });
  each("conflux_peer_sent_frames_total", "counter", "Frames sent to the peer.",
       [](const PeerTraffic& p) { return p.frames_out; });
  e.family("conflux_peer_dropped_frames_total", "counter", "Frames dropped, by peer and reason.");
  for (const auto& peer : m.peers) {
    for (const auto& [reason, count] : peer.dropped) {
      e.sample("conflux_peer_dropped_frames_total",
               label("peer", peer.id) + "," + label("reason", reason), static_cast<double>(count));
    }
  }
}

void http_counters(Exposition& e, const HttpCounters& http) {
  e.family("conflux_http_responses_total", "counter", "HTTP responses sent, by status code.");
  for (const auto& [status, count] : http.responses)
    e.sample("conflux_http_responses_total", label("code", std::to_string(status)),
             static_cast<double>(count));
  e.family("conflux_http_connections_total", "counter", "HTTP connections accepted.");
  e.sample("conflux_http_connections_total", "", static_cast<double>(http.connections_accepted));
  e.family("conflux_http_refused_total", "counter",
           "HTTP connections and requests turned away, by reason.");
  for (const auto& [reason, count] : http.refused)
    e.sample("conflux_http_refused_total", label("reason", reason), static_cast<double>(count));
  e.family("conflux_http_connections_open", "gauge", "HTTP connections open now.");
  e.sample("conflux_http_connections_open", "", static_cast<double>(http.connections_open));
}

}  // namespace

std::string prometheus_text(const NodeStatus& status, const NodeMetrics& metrics,
                            const HttpCounters* http) {
  Exposition e;
  node_gauges(e, status);
  node_counters(e, metrics);
  peer_traffic(e, metrics);
  if (http) http_counters(e, *http);
  return e.text();
}

}  // namespace conflux::server
