#include "volatile_storage.hpp"

#include <algorithm>
#include <stdexcept>

namespace conflux::detail {

void VolatileStorage::append(std::span<const raft::Entry> entries) {
  if (entries.empty()) return;
  const auto first = entries.front().index;
  if (first == 0 || first > std::max(last_index_, snapshots_.newest().index) + 1) {
    throw std::invalid_argument("VolatileStorage::append: entry " + std::to_string(first) +
                                " would leave a gap after " + std::to_string(last_index_));
  }
  last_index_ = entries.back().index;
}

void VolatileStorage::write_chunk(const raft::SnapshotChunk& chunk) {
  // Entries are not kept here: the core's log is the only copy.
  if (snapshots_.receive(chunk)) last_index_ = std::max(last_index_, chunk.meta.index);
}

std::unique_ptr<storage::SnapshotWriter> VolatileStorage::begin_snapshot(
    const raft::SnapshotMeta& identity) {
  return std::make_unique<StringSnapshotWriter>(identity);
}

bool VolatileStorage::adopt_snapshot(storage::SnapshotWriter& writer) {
  auto& finished = dynamic_cast<StringSnapshotWriter&>(writer);
  if (finished.meta().index <= snapshots_.newest().index) return false;
  snapshots_.keep(finished.meta(), raft::Payload(finished.bytes()));
  return true;
}

}  // namespace conflux::detail
