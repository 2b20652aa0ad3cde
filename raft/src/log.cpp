#include <algorithm>
#include <cassert>
#include <conflux/raft/log.hpp>
#include <stdexcept>

namespace conflux::raft {

Log::Log(Index base_index, Term base_term, std::vector<Entry> entries)
    : base_index_(base_index), base_term_(base_term) {
  for (auto& entry : entries) {
    if (entry.index != last_index() + 1) {
      throw std::invalid_argument("log entries are not contiguous at index " +
                                  std::to_string(entry.index));
    }
    entries_.push_back(std::move(entry));
  }
}

std::optional<Term> Log::term_at(Index index) const {
  if (index == base_index_) return base_term_;
  if (index < first_index() || index > last_index()) return std::nullopt;
  return at(index).term;
}

bool Log::is_up_to_date(Index other_last_index, Term other_last_term) const {
  const Term mine = last_term();
  return other_last_term > mine || (other_last_term == mine && other_last_index >= last_index());
}

Index Log::first_index_of_term(Term term, Index hint) const {
  Index index = hint;
  while (index > first_index() && term_at(index - 1) == term) --index;
  return index;
}

std::optional<Index> Log::last_index_of_term(Term term, Index hint) const {
  Index index = std::min(hint, last_index());
  while (index > base_index_ && at(index).term > term) --index;
  if (index < first_index() || at(index).term != term) return std::nullopt;
  return index;
}

void Log::append(Entry entry) {
  assert(entry.index == last_index() + 1);
  entries_.push_back(std::move(entry));
}

void Log::truncate_from(Index index) {
  assert(index >= first_index());
  while (last_index() >= index) entries_.pop_back();
}

void Log::compact_to(Index index) {
  assert(index >= base_index_ && index <= last_index());
  if (index == base_index_) return;
  base_term_ = at(index).term;
  entries_.erase(entries_.begin(),
                 entries_.begin() + static_cast<std::ptrdiff_t>(index - base_index_));
  base_index_ = index;
}

void Log::reset(Index index, Term term) {
  entries_.clear();
  base_index_ = index;
  base_term_ = term;
}

std::vector<Entry> Log::slice(Index lo, Index hi, std::size_t max_bytes,
                              std::size_t max_entries) const {
  if (lo < first_index()) {  // a bug in the caller: the entries are in a snapshot
    throw std::logic_error("log entries from " + std::to_string(lo) + " wanted, but those before " +
                           std::to_string(first_index()) + " were compacted");
  }
  std::vector<Entry> out;
  const Index end = std::min(hi, last_index());
  if (lo <= end) out.reserve(std::min<std::size_t>(end - lo + 1, max_entries));
  std::size_t bytes = 0;
  for (Index i = lo; i <= end && out.size() < max_entries; ++i) {
    const Entry& entry = at(i);
    if (!out.empty() && bytes + entry.payload.size() > max_bytes) break;
    bytes += entry.payload.size();
    out.push_back(entry);
  }
  return out;
}

}  // namespace conflux::raft
