#pragma once
// The in-memory Raft log: a contiguous run of entries [first_index, last_index]
// preceded by the compaction point (snapshot_index, snapshot_term). Until
// snapshots arrive, snapshot_index is 0 and its term is 0.

#include <conflux/raft/types.hpp>
#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

namespace conflux::raft {

class Log {
 public:
  Log() = default;
  /// Restores a log whose entry snapshot_index + 1 is entries.front().
  /// Precondition: entries are contiguous and start at snapshot_index + 1.
  Log(Index snapshot_index, Term snapshot_term, std::vector<Entry> entries);

  Index first_index() const { return snapshot_index_ + 1; }
  Index last_index() const { return snapshot_index_ + entries_.size(); }
  Term last_term() const { return term_at(last_index()).value_or(0); }

  /// Term of the entry at `index`, or of the compaction point when
  /// index == snapshot_index; nullopt when the log cannot tell
  /// (compacted away, or past the end).
  std::optional<Term> term_at(Index index) const;

  /// Precondition: first_index() <= index <= last_index().
  const Entry& at(Index index) const { return entries_[index - first_index()]; }

  /// True when the log holds an entry at `index` whose term is `term`
  /// (index 0 with term 0 always matches: the empty prefix).
  bool matches(Index index, Term term) const { return term_at(index) == term; }

  /// Raft §5.4.1: is a log ending at (last_term, last_index) at least as
  /// up-to-date as this one?
  bool is_up_to_date(Index last_index, Term last_term) const;

  /// First index with term `term` at or before `hint`, scanning backward;
  /// used to fill the conflict hint of a rejection.
  Index first_index_of_term(Term term, Index hint) const;
  /// Last index at or before `hint` holding an entry of term `term`, scanning
  /// backward; nullopt when the log has none. Where a leader resumes after a
  /// conflict hint (Raft §5.3).
  std::optional<Index> last_index_of_term(Term term, Index hint) const;

  /// Appends one entry. Precondition: entry.index == last_index() + 1.
  void append(Entry entry);
  /// Removes every entry at index >= `index`. Precondition: index > commit
  /// (the caller never truncates committed entries; Raft §5.3/Figure 3).
  void truncate_from(Index index);

  /// Entries [lo, hi] (inclusive), stopping early once `max_bytes` of
  /// payload is reached, but always including at least one entry when
  /// lo <= hi. Precondition: first_index() <= lo.
  std::vector<Entry> slice(Index lo, Index hi, std::size_t max_bytes,
                           std::size_t max_entries = SIZE_MAX) const;

 private:
  Index snapshot_index_ = 0;
  Term snapshot_term_ = 0;
  std::deque<Entry> entries_;  // entries_[i].index == snapshot_index_ + 1 + i
};

}  // namespace conflux::raft
