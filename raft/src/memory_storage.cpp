#include <algorithm>
#include <conflux/raft/storage.hpp>
#include <stdexcept>
#include <string>

namespace conflux::raft {

std::optional<Payload> MemoryStorage::read_snapshot(const SnapshotMeta& meta, std::uint64_t offset,
                                                    std::size_t max) const {
  return snapshots_.read(meta, offset, max);
}

Term MemoryStorage::term_at(Index index) const {
  const auto& snapshot = snapshots_.newest();
  return index == snapshot.index ? snapshot.term : entries_[index - snapshot.index - 1].term;
}

void MemoryStorage::append(std::span<const Entry> entries) {
  const Index snapshot = snapshots_.newest().index;
  while (!entries.empty() && entries.front().index <= snapshot) entries = entries.subspan(1);
  if (entries.empty()) return;
  const Index first = entries.front().index;
  if (first > last_index() + 1) {
    throw std::invalid_argument("MemoryStorage::append: entry " + std::to_string(first) +
                                " would leave a gap after " + std::to_string(last_index()));
  }
  entries_.resize(first - snapshot - 1);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

void MemoryStorage::save_snapshot(const SnapshotMeta& meta, Payload data) {
  const Index base = snapshots_.newest().index;
  if (meta.index <= base || (meta.index <= last_index() && term_at(meta.index) != meta.term)) {
    throw std::invalid_argument("MemoryStorage::save_snapshot: no entry " +
                                std::to_string(meta.index) + " of term " +
                                std::to_string(meta.term) + " to compact at");
  }
  const auto covered = std::min<Index>(entries_.size(), meta.index - base);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(covered));
  snapshots_.keep(meta, std::move(data));
}

void MemoryStorage::write_chunk(const SnapshotChunk& chunk) {
  // ready.hpp: the entries after the snapshot stay only if the stored entry
  // at its index has its term (Raft §7, receiver step 6).
  const auto& meta = chunk.meta;
  const Index base = snapshots_.newest().index;
  const bool matches =
      meta.index > base && meta.index <= last_index() && term_at(meta.index) == meta.term;
  if (!snapshots_.receive(chunk)) return;
  entries_.erase(
      entries_.begin(),
      matches ? entries_.begin() + static_cast<std::ptrdiff_t>(meta.index - base) : entries_.end());
}

}  // namespace conflux::raft
