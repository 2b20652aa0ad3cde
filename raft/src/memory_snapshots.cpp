#include <algorithm>
#include <conflux/raft/memory_snapshots.hpp>
#include <stdexcept>
#include <string>

namespace conflux::raft {

std::optional<Payload> MemorySnapshots::read(const SnapshotMeta& meta, std::uint64_t offset,
                                             std::size_t max) const {
  for (const Held* held : {&newest_, &previous_}) {
    if (held->meta.index == 0 || held->meta != meta || offset > meta.size) continue;
    const auto length = std::min<std::uint64_t>(max, meta.size - offset);
    return Payload(held->data.view().substr(offset, length));
  }
  return std::nullopt;
}

void MemorySnapshots::keep(const SnapshotMeta& meta, Payload data) {
  previous_ = std::move(newest_);
  newest_ = Held{meta, std::move(data)};
}

bool MemorySnapshots::receive(const SnapshotChunk& chunk) {
  const bool fresh = chunk.offset == 0;
  if (!fresh && (chunk.meta != receiving_ || chunk.offset != received_.size())) {
    throw std::invalid_argument("a chunk at offset " + std::to_string(chunk.offset) +
                                " of the snapshot at " + std::to_string(chunk.meta.index) +
                                " does not follow the bytes received");
  }
  if (fresh) {
    receiving_ = chunk.meta;
    received_.clear();
  }
  received_ += chunk.data.view();
  if (!chunk.done) return false;
  keep(chunk.meta, Payload(received_));
  received_.clear();
  receiving_ = {};
  return true;
}

}  // namespace conflux::raft
