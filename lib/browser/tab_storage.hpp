#pragma once
// The storage of a browser tab's node: what the tab's IndexedDB held at load
// (the hard state and the log), restored once, then kept in step with each
// Ready that conflux.mjs makes durable there. A reload is a crash-restart:
// the term and vote come back, so the tab never votes twice in a term.
//
// Not yet persisted: snapshots. A tab takes none (TabNode turns them off),
// but one installed from a leader lives in memory only, although the tab
// acknowledges it: a later reload may find a log that cannot be restored
// (conflux() then refuses it by name) or stale entries below the snapshot.
// docs/browser.md warns; until snapshots are written to IndexedDB, a tab
// must not be fed one (keep native peers' logs from being compacted past it).

#include <boost/json/parse.hpp>
#include <span>
#include <string>
#include <vector>

#include "volatile_storage.hpp"

namespace conflux::browser {

class TabStorage final : public storage::NodeStorage {
 public:
  /// `restored`: {"hardState": {term, vote, commit} or null, "entries":
  /// [{index, term, type, payload}, ...]}, in index order from 1.
  explicit TabStorage(const std::string& restored) {
    const auto value = boost::json::parse(restored);
    const auto& object = value.as_object();
    if (const auto* hard = object.if_contains("hardState"); hard && hard->is_object()) {
      const auto& h = hard->as_object();
      inner_.save_hard_state({.term = h.at("term").to_number<raft::Term>(),
                              .vote = std::string(h.at("vote").as_string()),
                              .commit = h.at("commit").to_number<raft::Index>()});
    }
    for (const auto& item : object.at("entries").as_array()) {
      const auto& e = item.as_object();
      entries_.push_back({.term = e.at("term").to_number<raft::Term>(),
                          .index = e.at("index").to_number<raft::Index>(),
                          .type = static_cast<raft::EntryType>(e.at("type").to_number<int>()),
                          .payload = raft::Payload(std::string(e.at("payload").as_string()))});
    }
    inner_.append(entries_);
  }

  raft::HardState hard_state() const override { return inner_.hard_state(); }
  raft::SnapshotMeta snapshot() const override { return inner_.snapshot(); }
  /// Read once, by the engine's constructor.
  std::vector<raft::Entry> entries() const override { return entries_; }
  std::optional<raft::Payload> read_snapshot(const raft::SnapshotMeta& meta, std::uint64_t offset,
                                             std::size_t max) const override {
    return inner_.read_snapshot(meta, offset, max);
  }
  void save_hard_state(const raft::HardState& state) override { inner_.save_hard_state(state); }
  void append(std::span<const raft::Entry> entries) override { inner_.append(entries); }
  void sync() override {}
  void write_chunk(const raft::SnapshotChunk& chunk) override { inner_.write_chunk(chunk); }
  std::unique_ptr<storage::SnapshotWriter> begin_snapshot(
      const raft::SnapshotMeta& identity) override {
    return inner_.begin_snapshot(identity);
  }
  bool adopt_snapshot(storage::SnapshotWriter& writer) override {
    return inner_.adopt_snapshot(writer);
  }

  /// What a Ready asks to be stored (conflux.mjs writes the same to
  /// IndexedDB before it calls TabNode::persisted()).
  void apply(const raft::Ready& ready) {
    for (const auto& chunk : ready.snapshot_chunks) inner_.write_chunk(chunk);
    if (ready.hard_state) inner_.save_hard_state(*ready.hard_state);
    inner_.append(ready.entries);
  }

 private:
  detail::VolatileStorage inner_;
  std::vector<raft::Entry> entries_;
};

}  // namespace conflux::browser
