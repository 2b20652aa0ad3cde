// The engine's side of snapshots (Raft §7): when to take one, what to do
// once it is stored, and installing one received from the leader.
#include <boost/container/small_vector.hpp>

#include "engine.hpp"
#include "snapshot_codec.hpp"

namespace conflux::detail {

bool Engine::snapshot_due() const {
  const auto since = raft_->applied() - raft_->snapshot().index;
  if (since == 0) return false;
  if (snapshot_requested_) return true;
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
  return SnapshotJob{
      raft::SnapshotMeta{index, *raft_->log().term_at(index), 0, raft_->configuration_at(index)},
      machine_.committed()};
}

void Engine::snapshot_taken(const std::optional<raft::SnapshotMeta>& meta, double seconds) {
  snapshot_writing_ = false;
  if (!meta) return;
  ++counters_.snapshots_taken;
  counters_.snapshot_bytes = meta->size;
  counters_.snapshot_duration.observe(seconds);
  raft_->compact(*meta);
}

// The storage installed the snapshot (the driver persisted its last chunk):
// the state machine restarts from it. Performs proposed at an index it
// covers will never be applied here; whether their entry committed in
// their term is unknown, so they fail as outcome_unknown.
void Engine::install(const raft::SnapshotMeta& meta) {
  machine_.restore(read_snapshot(storage_, meta), meta.index);
  bytes_since_snapshot_ = 0;
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

void Engine::count_sent_snapshots(const raft::Ready& ready) {
  for (const auto& message : ready.early_messages) {
    const auto* chunk = std::get_if<raft::SnapshotRequest>(&message.body);
    if (chunk && chunk->done) ++counters_.snapshots_sent;
  }
}

}  // namespace conflux::detail
