#include "replayed_log.hpp"

namespace conflux::storage {

std::string ReplayedLog::apply(const Record& record) {
  switch (record.type) {
    case RecordType::entry: {
      const auto index = record.entry.index;
      if (!started_) {
        started_ = true;
        base_ = index - 1;
      }
      if (index != last() + 1) {
        return "entry " + std::to_string(index) + " after " + std::to_string(last());
      }
      entries_.push_back(record.entry);
      return {};
    }
    case RecordType::truncate: {
      const auto from = record.truncate;
      if (from == 0 || (started_ && from > last() + 1)) return "truncation past the end";
      if (!started_) return {};  // cuts only what earlier, deleted segments held
      if (from <= base_) {
        entries_.clear();
        base_ = from - 1;
      } else {
        entries_.resize(from - base_ - 1);
      }
      return {};
    }
    case RecordType::base:
      if (record.base_index == 0) return "a base record at index 0";
      // The entries it kept were in segments deleted since: the log starts
      // with the next entry record.
      if (!started_ && record.base_keep) return {};
      rebase(record.base_index, record.base_keep);
      started_ = true;
      return {};
  }
  return "unknown record type";
}

std::optional<raft::Term> ReplayedLog::term_at(raft::Index index) const {
  if (index <= base_ || index > last()) return std::nullopt;
  return entries_[index - base_ - 1].term;
}

void ReplayedLog::rebase(raft::Index index, bool keep) {
  if (keep && index >= base_ && index <= last()) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(index - base_));
  } else if (!keep || index > last()) {
    entries_.clear();
  }
  // keep with index < base_: the snapshot ends before what is held; the
  // entries held continue it (the segments in between were deleted).
  if (!(keep && index < base_)) base_ = index;
}

std::vector<raft::Entry> ReplayedLog::take_entries() {
  std::vector<raft::Entry> out(std::make_move_iterator(entries_.begin()),
                               std::make_move_iterator(entries_.end()));
  entries_.clear();
  return out;
}

}  // namespace conflux::storage
