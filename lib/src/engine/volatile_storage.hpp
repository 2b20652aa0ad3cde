#pragma once
// The storage of a node without a data directory. Nothing it holds outlives
// the process, and the core keeps every entry in its own log (raft::Log), so
// keeping a second copy of each entry here (as raft::MemoryStorage does for
// the simulation, which rebuilds crashed nodes from it) would only cost
// memory and time. It keeps the hard state and checks that appends are
// contiguous, as every Storage must.
//
// Never restore a core from it once written: entries() is always empty.

#include <conflux/raft/storage.hpp>
#include <stdexcept>
#include <string>

namespace conflux::detail {

class VolatileStorage final : public raft::Storage {
 public:
  raft::HardState hard_state() const override { return hard_state_; }
  raft::SnapshotMeta snapshot() const override { return {}; }
  std::vector<raft::Entry> entries() const override { return {}; }
  std::optional<raft::Payload> read_snapshot(const raft::SnapshotMeta&, std::uint64_t,
                                             std::size_t) const override {
    return std::nullopt;
  }

  void save_hard_state(const raft::HardState& state) override { hard_state_ = state; }
  void append(std::span<const raft::Entry> entries) override {
    if (entries.empty()) return;
    const auto first = entries.front().index;
    if (first == 0 || first > last_index_ + 1) {
      throw std::invalid_argument("VolatileStorage::append: entry " + std::to_string(first) +
                                  " would leave a gap after " + std::to_string(last_index_));
    }
    last_index_ = entries.back().index;
  }

 private:
  raft::HardState hard_state_;
  raft::Index last_index_ = 0;
};

}  // namespace conflux::detail
