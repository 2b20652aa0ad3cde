// conflux::Node's read-only views of the node: status, members, its log
// and metrics, read on the node's executor from the engine and the
// channel.
#include <algorithm>
#include <boost/json/serialize.hpp>

#include "node_impl.hpp"

namespace conflux {
namespace {

LogEntryView entry_view(const raft::Entry& entry, std::uint64_t commit) {
  LogEntryView view{.index = entry.index,
                    .term = entry.term,
                    .committed = entry.index <= commit,
                    .action = {},
                    .configuration = {},
                    .session = {}};
  const auto text = std::string(entry.payload.view());
  if (entry.type == raft::EntryType::normal) view.action = text;
  if (entry.type == raft::EntryType::configuration) view.configuration = text;
  if (entry.type == raft::EntryType::session) {
    view.session = text;
    try {
      const auto session = detail::decode_session_entry(text);
      if (!session.action.is_null()) view.action = boost::json::serialize(session.action);
    } catch (const std::invalid_argument&) {
      // not a valid session entry: it applies as nothing, and shows as such
    }
  }
  return view;
}

}  // namespace

NodeStatus Node::status() const {
  const auto s = impl_->engine->raft().status();
  NodeStatus status{.id = s.id,
                    .role = std::string(raft::to_string(s.role)),
                    .term = s.term,
                    .leader = s.leader,
                    .commit = s.commit,
                    .applied = s.applied,
                    .last_index = s.last_index,
                    .snapshot_index = s.snapshot.index,
                    .snapshot_term = s.snapshot.term,
                    .snapshot_bytes = s.snapshot.size,
                    .first_index = s.first_index,
                    .error = impl_->storage_error,
                    .peers = {},
                    .links = {},
                    .isolated = impl_->isolated,
                    .refusals = impl_->channel->refusals()};
  for (const auto& traffic : impl_->channel->status()) {
    PeerProgress peer{.id = traffic.id, .connected = traffic.connected, .match = std::nullopt};
    for (const auto& progress : s.peers) {
      if (progress.id == traffic.id) peer.match = progress.match;
    }
    status.peers.push_back(std::move(peer));
  }
  for (auto& link : impl_->channel->relay_links()) {
    status.links.push_back({.name = std::move(link.name),
                            .endpoint = std::move(link.endpoint),
                            .up = link.up,
                            .connects = link.connects,
                            .last_error = std::move(link.last_error)});
  }
  return status;
}

Members Node::members() const {
  const auto& raft = impl_->engine->raft();
  const auto& config = raft.configuration();
  const auto peer = [&](const std::string& id) {
    const auto address = config.addresses.find(id);
    return Peer{id, address == config.addresses.end() ? std::string() : address->second};
  };
  Members out;
  for (const auto& id : config.voters) out.voters.push_back(peer(id));
  for (const auto& id : config.learners) out.learners.push_back(peer(id));
  out.outgoing = config.outgoing;
  out.committed = raft.status().configuration_committed;
  return out;
}

std::vector<LogEntryView> Node::log_tail(std::size_t count) const {
  const auto last = impl_->engine->raft().log().last_index();
  return log_entries(last >= count ? last - count + 1 : 1, count);
}

std::vector<LogEntryView> Node::log_entries(std::uint64_t from, std::size_t count) const {
  const auto& raft = impl_->engine->raft();
  const auto& log = raft.log();
  const auto first = std::max(log.first_index(), from);
  if (count == 0 || first > log.last_index()) return {};
  const auto last = first + std::min<std::uint64_t>(count - 1, log.last_index() - first);
  std::vector<LogEntryView> entries;
  for (auto index = first; index <= last; ++index) {
    entries.push_back(entry_view(log.at(index), raft.commit()));
  }
  return entries;
}

NodeMetrics Node::metrics() const {
  const auto s = impl_->engine->raft().status();
  NodeMetrics metrics = impl_->engine->counters();
  metrics.fsync_latency = impl_->fsync_latency;
  metrics.elections = s.elections;
  metrics.leaderships = s.leaderships;
  for (const auto& traffic : impl_->channel->status()) {
    PeerTraffic peer{.id = traffic.id,
                     .connected = traffic.connected,
                     .bytes_in = traffic.bytes_in,
                     .bytes_out = traffic.bytes_out,
                     .frames_in = traffic.frames_in,
                     .frames_out = traffic.frames_out,
                     .dropped = {}};
    for (std::size_t i = 0; i < transport::drop_reason_count; ++i) {
      const auto reason = static_cast<transport::DropReason>(i);
      peer.dropped[std::string(transport::to_string(reason))] = traffic.dropped_for(reason);
    }
    metrics.peers.push_back(std::move(peer));
  }
  return metrics;
}

}  // namespace conflux
