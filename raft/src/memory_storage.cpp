#include <conflux/raft/storage.hpp>
#include <stdexcept>
#include <string>

namespace conflux::raft {

void MemoryStorage::append(std::span<const Entry> entries) {
  if (entries.empty()) return;
  const Index first = entries.front().index;
  if (first == 0 || first > last_index() + 1) {
    throw std::invalid_argument("MemoryStorage::append: entry " + std::to_string(first) +
                                " would leave a gap after " + std::to_string(last_index()));
  }
  entries_.resize(first - 1);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

}  // namespace conflux::raft
