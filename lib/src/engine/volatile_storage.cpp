#include "volatile_storage.hpp"

#include <algorithm>
#include <stdexcept>

namespace conflux::detail {
namespace {

class StringWriter final : public storage::SnapshotWriter {
 public:
  StringWriter(raft::Index index, raft::Term term) : meta_{index, term, 0} {}
  void write(std::string_view bytes) override { bytes_.append(bytes); }
  raft::SnapshotMeta finish() override {
    meta_.size = bytes_.size();
    return meta_;
  }
  const raft::SnapshotMeta& meta() const { return meta_; }
  std::string& bytes() { return bytes_; }

 private:
  raft::SnapshotMeta meta_;
  std::string bytes_;
};

}  // namespace

std::optional<raft::Payload> VolatileStorage::read_snapshot(const raft::SnapshotMeta& meta,
                                                            std::uint64_t offset,
                                                            std::size_t max) const {
  for (const Held* held : {&newest_, &previous_}) {
    if (held->meta.index == 0 || held->meta != meta || offset > meta.size) continue;
    const auto length = std::min<std::uint64_t>(max, meta.size - offset);
    return raft::Payload(held->bytes.view().substr(offset, length));
  }
  return std::nullopt;
}

void VolatileStorage::append(std::span<const raft::Entry> entries) {
  if (entries.empty()) return;
  const auto first = entries.front().index;
  if (first == 0 || first > std::max(last_index_, newest_.meta.index) + 1) {
    throw std::invalid_argument("VolatileStorage::append: entry " + std::to_string(first) +
                                " would leave a gap after " + std::to_string(last_index_));
  }
  last_index_ = entries.back().index;
}

void VolatileStorage::write_chunk(const raft::SnapshotChunk& chunk) {
  if (chunk.offset == 0) {
    receiving_ = chunk.meta;
    received_.clear();
  }
  if (chunk.meta != receiving_ || chunk.offset != received_.size()) {
    throw std::invalid_argument("a chunk at offset " + std::to_string(chunk.offset) +
                                " of the snapshot at " + std::to_string(chunk.meta.index) +
                                " does not follow the bytes received");
  }
  received_ += chunk.data.view();
  if (!chunk.done) return;
  // Entries are not kept here: the core's log is the only copy.
  last_index_ = std::max(last_index_, chunk.meta.index);
  hold(chunk.meta, std::exchange(received_, {}));
  receiving_ = {};
}

std::unique_ptr<storage::SnapshotWriter> VolatileStorage::begin_snapshot(raft::Index index,
                                                                         raft::Term term) {
  return std::make_unique<StringWriter>(index, term);
}

bool VolatileStorage::adopt_snapshot(storage::SnapshotWriter& writer) {
  auto& finished = dynamic_cast<StringWriter&>(writer);
  if (finished.meta().index <= newest_.meta.index) return false;
  hold(finished.meta(), std::move(finished.bytes()));
  return true;
}

void VolatileStorage::hold(const raft::SnapshotMeta& meta, std::string bytes) {
  previous_ = std::move(newest_);
  newest_ = Held{meta, raft::Payload(bytes)};
}

}  // namespace conflux::detail
