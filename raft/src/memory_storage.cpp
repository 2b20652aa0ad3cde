#include <algorithm>
#include <conflux/raft/storage.hpp>
#include <stdexcept>
#include <string>

namespace conflux::raft {

std::optional<Payload> MemoryStorage::read_snapshot(const SnapshotMeta& meta, std::uint64_t offset,
                                                    std::size_t max) const {
  for (const Held* held : {&newest_, &previous_}) {
    if (held->meta != meta || meta.index == 0 || offset > meta.size) continue;
    const auto length = std::min<std::uint64_t>(max, meta.size - offset);
    return Payload(held->data.view().substr(offset, length));
  }
  return std::nullopt;
}

Term MemoryStorage::term_at(Index index) const {
  return index == newest_.meta.index ? newest_.meta.term
                                     : entries_[index - newest_.meta.index - 1].term;
}

void MemoryStorage::append(std::span<const Entry> entries) {
  const Index snapshot = newest_.meta.index;
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
  const bool stored = meta.index <= last_index();
  if (meta.index <= newest_.meta.index || (stored && term_at(meta.index) != meta.term)) {
    throw std::invalid_argument("MemoryStorage::save_snapshot: no entry " +
                                std::to_string(meta.index) + " of term " +
                                std::to_string(meta.term) + " to compact at");
  }
  if (stored) {
    entries_.erase(entries_.begin(),
                   entries_.begin() + static_cast<std::ptrdiff_t>(meta.index - newest_.meta.index));
  } else {
    entries_.clear();
  }
  keep(meta, std::move(data));
}

void MemoryStorage::write_chunk(const SnapshotChunk& chunk) {
  if (chunk.offset == 0) {
    receiving_ = chunk.meta;
    received_.clear();
  }
  if (chunk.meta != receiving_ || chunk.offset != received_.size()) {
    throw std::invalid_argument("MemoryStorage::write_chunk: chunk at " +
                                std::to_string(chunk.offset) + " of snapshot " +
                                std::to_string(chunk.meta.index) + " is out of order");
  }
  received_ += chunk.data.view();
  if (!chunk.done) return;
  // ready.hpp: the entries after the snapshot stay only if the stored entry
  // at its index has its term (Raft §7, receiver step 6).
  const auto& meta = chunk.meta;
  const bool matches = meta.index > newest_.meta.index && meta.index <= last_index() &&
                       term_at(meta.index) == meta.term;
  if (matches) {
    entries_.erase(entries_.begin(),
                   entries_.begin() + static_cast<std::ptrdiff_t>(meta.index - newest_.meta.index));
  } else {
    entries_.clear();
  }
  keep(meta, Payload(received_));
  received_.clear();
  receiving_ = {};
}

void MemoryStorage::keep(const SnapshotMeta& meta, Payload data) {
  previous_ = std::move(newest_);
  newest_ = Held{meta, std::move(data)};
}

}  // namespace conflux::raft
