#pragma once
// The log that a write-ahead log's records describe, rebuilt record by
// record at recovery (docs/storage.md). The first segments may have been
// deleted once a snapshot covered them, so the log may start anywhere: the
// first entry record sets where.

#include <conflux/raft/types.hpp>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "record.hpp"

namespace conflux::storage {

class ReplayedLog {
 public:
  /// Applies one record. Returns what is wrong with it, or an empty string.
  std::string apply(const Record& record);

  bool started() const { return started_; }
  /// The index before the first entry held.
  raft::Index base() const { return base_; }
  raft::Index last() const { return base_ + entries_.size(); }
  std::optional<raft::Term> term_at(raft::Index index) const;
  /// Drops the entries up to `index` (a snapshot holds them); with `keep`
  /// false, the ones after it as well. The log then continues from index.
  void rebase(raft::Index index, bool keep);
  std::vector<raft::Entry> take_entries();

 private:
  bool started_ = false;
  raft::Index base_ = 0;
  std::deque<raft::Entry> entries_;  // entries_[i].index == base_ + 1 + i
};

}  // namespace conflux::storage
