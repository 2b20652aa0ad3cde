// The engine's side of snapshots (Raft §7): when to take one, what to do
// once it is stored, and installing one received from the leader.
#include <boost/container/small_vector.hpp>
#include <set>

#include "engine.hpp"
#include "snapshot_codec.hpp"

namespace conflux::detail {

// After a failed snapshot, the entry threshold counts from the index it
// failed at: a state that cannot be written is not copied again every round.
bool Engine::snapshot_due() const {
  const auto applied = raft_->applied();
  if (applied == raft_->snapshot().index) return false;
  if (snapshot_requested_) return true;
  const auto since =
      applied - std::min(applied, std::max(raft_->snapshot().index, snapshot_failed_));
  return (snapshot_policy_.entries > 0 && since >= snapshot_policy_.entries) ||
         (snapshot_policy_.bytes > 0 && bytes_since_snapshot_ >= snapshot_policy_.bytes);
}

// The committed state is copied here, on the engine's thread: the copy is
// the whole cost the node pays (the serialization and the write happen on
// the driver's worker). docs/performance.md measures the stall.
std::optional<SnapshotJob> Engine::take_snapshot_job() {
  if (snapshot_writing_ || !snapshot_due()) return std::nullopt;
  snapshot_writing_ = true;
  snapshot_requested_ = false;
  bytes_since_snapshot_ = 0;
  const auto index = machine_.applied();
  snapshot_tried_ = index;
  return SnapshotJob{
      raft::SnapshotMeta{index, *raft_->log().term_at(index), 0, raft_->configuration_at(index)},
      SnapshotContent{machine_.committed(), machine_.sessions().to_json()}};
}

void Engine::snapshot_taken(const std::optional<raft::SnapshotMeta>& meta, double seconds) {
  snapshot_writing_ = false;
  if (!meta) {
    snapshot_failed_ = snapshot_tried_;
    return;
  }
  ++counters_.snapshots_taken;
  counters_.snapshot_bytes = meta->size;
  counters_.snapshot_duration.observe(seconds);
  raft_->compact(*meta);
}

// The state machine, sessions included, as snapshot `meta` holds it.
void Engine::restore(const raft::SnapshotMeta& meta) {
  auto content = read_snapshot(storage_, meta);
  SessionTable sessions;
  try {
    if (!content.sessions.is_null()) sessions = SessionTable::from_json(content.sessions);
  } catch (const std::invalid_argument& error) {
    throw std::runtime_error("the snapshot at " + std::to_string(meta.index) +
                             " holds unreadable sessions: " + error.what());
  }
  machine_.restore(std::move(content.state), std::move(sessions), meta.index);
}

// The storage installed the snapshot (the driver persisted its last chunk):
// the state machine restarts from it. A session perform whose outcome it
// records is answered; one it shows never applied is asked again. Other
// performs proposed at an index it covers will never be applied here;
// whether their entry committed in their term is unknown, so they fail as
// outcome_unknown.
void Engine::install(const raft::SnapshotMeta& meta) {
  restore(meta);
  bytes_since_snapshot_ = 0;
  settle_ended_sessions(meta.index);
  std::vector<std::uint64_t> in_sessions;
  for (const auto& [id, p] : pending_) {
    const bool sent = p.stage == Stage::proposed || p.stage == Stage::forwarded;
    if (p.seq != 0 && sent) in_sessions.push_back(id);
  }
  for (const auto id : in_sessions) settle_from_sessions(id);
  boost::container::small_vector<std::uint64_t, 8> covered;
  for (auto it = by_index_.begin(); it != by_index_.end() && it->first <= meta.index; ++it) {
    covered.push_back(it->second);
  }
  by_index_.erase(by_index_.begin(), by_index_.upper_bound(meta.index));
  for (const auto id : covered) {
    fail(id, errc::outcome_unknown,
         "this node installed a snapshot that covers the action's entry: whether it was "
         "committed is unknown");
  }
}

// Sessions the snapshot shows ended (expired, or dropped over the cap)
// although they were opened at or before its index. Applying the log, this
// node would have seen each entry of such a session before its end; the
// snapshot hides that. A perform sent in one may have been applied before
// the end, so it fails as outcome_unknown, never runs again; one never sent
// was certainly not applied, and goes the way of an expiry (client_sessions.cpp).
void Engine::settle_ended_sessions(raft::Index snapshot_index) {
  const auto ended = [&](std::uint64_t client) {
    return client != 0 && client <= snapshot_index && !machine_.sessions().contains(client);
  };
  std::vector<std::uint64_t> unknown;
  std::set<std::uint64_t> clients;
  for (const auto& [id, p] : pending_) {
    if (p.seq == 0 || !ended(p.client)) continue;
    clients.insert(p.client);
    if (p.sent) unknown.push_back(id);
  }
  for (const auto id : unknown) {
    fail(id, errc::outcome_unknown,
         "this node installed a snapshot in which the perform's client session had ended: "
         "whether the action was applied before that is unknown");
  }
  if (ended(client_)) clients.insert(client_);
  if (!clients.empty())
    on_sessions_expired(std::vector<std::uint64_t>(clients.begin(), clients.end()));
}

void Engine::count_sent_snapshots(const raft::Ready& ready) {
  for (const auto& message : ready.early_messages) {
    const auto* chunk = std::get_if<raft::SnapshotRequest>(&message.body);
    if (chunk && chunk->done) ++counters_.snapshots_sent;
  }
}

}  // namespace conflux::detail
