#pragma once
// The in-memory Raft log: a contiguous run of entries [first_index, last_index]
// preceded by its base (base_index, base_term): the last entry compacted
// away, known by its index and term only (Raft §7, "last included index and
// term"). Before any compaction the base is (0, 0), the empty prefix.

#include <conflux/raft/types.hpp>
#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

namespace conflux::raft {

class Log {
 public:
  Log() = default;
  /// Restores a log whose entry base_index + 1 is entries.front(). Throws
  /// std::invalid_argument unless the entries are contiguous from there.
  Log(Index base_index, Term base_term, std::vector<Entry> entries);

  Index base_index() const { return base_index_; }
  Term base_term() const { return base_term_; }
  Index first_index() const { return base_index_ + 1; }
  Index last_index() const { return base_index_ + entries_.size(); }
  Term last_term() const { return term_at(last_index()).value_or(0); }

  /// Term of the entry at `index`, or of the base when index ==
  /// base_index; nullopt when the log cannot tell
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
  /// Drops every entry up to and including `index`, which becomes the base.
  /// Precondition: base_index() <= index <= last_index().
  void compact_to(Index index);
  /// Drops every entry: the log is empty after the base (index, term).
  void reset(Index index, Term term);

  /// Entries [lo, hi] (inclusive), stopping early once `max_bytes` of
  /// payload is reached, but always including at least one entry when
  /// lo <= hi. Throws std::logic_error unless first_index() <= lo.
  std::vector<Entry> slice(Index lo, Index hi, std::size_t max_bytes,
                           std::size_t max_entries = SIZE_MAX) const;

 private:
  Index base_index_ = 0;
  Term base_term_ = 0;
  std::deque<Entry> entries_;  // entries_[i].index == base_index_ + 1 + i
};

}  // namespace conflux::raft
