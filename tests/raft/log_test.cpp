// Unit tests of the in-memory Raft log (conflux/raft/log.hpp) and of the
// payloads its entries carry.
#include <doctest/doctest.h>

#include <conflux/raft/log.hpp>
#include <memory>
#include <stdexcept>
#include <string>

#include "raft/test_cluster.hpp"

using namespace conflux::raft;
using conflux::raft::testing::entries_with_terms;
using conflux::raft::testing::terms_of;

namespace {

Entry entry_of_size(Term term, Index index, std::size_t bytes) {
  return Entry{term, index, EntryType::normal, Payload(std::string(bytes, 'x'))};
}

Log log_with_sizes(std::initializer_list<std::size_t> sizes) {
  std::vector<Entry> entries;
  for (std::size_t size : sizes) entries.push_back(entry_of_size(1, entries.size() + 1, size));
  return Log(0, 0, entries);
}

std::vector<Index> indices(const std::vector<Entry>& entries) {
  std::vector<Index> out;
  for (const auto& e : entries) out.push_back(e.index);
  return out;
}

}  // namespace

TEST_CASE("an empty log ends at index 0, term 0, and matches only the empty prefix") {
  const Log log;
  CHECK(log.first_index() == 1);
  CHECK(log.last_index() == 0);
  CHECK(log.last_term() == 0);
  CHECK(log.term_at(0) == Term{0});
  CHECK_FALSE(log.term_at(1).has_value());
  CHECK(log.matches(0, 0));
  CHECK_FALSE(log.matches(0, 1));
  CHECK_FALSE(log.matches(1, 1));
}

TEST_CASE("a restored log answers the term of each index and nothing past its end") {
  const Log log(0, 0, entries_with_terms({1, 1, 2, 3}));
  CHECK(log.last_index() == 4);
  CHECK(log.last_term() == 3);
  CHECK(log.term_at(2) == Term{1});
  CHECK(log.term_at(3) == Term{2});
  CHECK_FALSE(log.term_at(5).has_value());
  CHECK(log.at(4).payload.view() == "e4");
  CHECK(log.matches(3, 2));
  CHECK_FALSE(log.matches(3, 1));
  CHECK_FALSE(log.matches(5, 3));
}

TEST_CASE("restoring a log with a gap or a wrong first index throws") {
  CHECK_THROWS_AS(Log(0, 0, entries_with_terms({1, 1}, 2)), std::invalid_argument);
  auto gap = entries_with_terms({1, 1, 1});
  gap.erase(gap.begin() + 1);
  CHECK_THROWS_AS(Log(0, 0, gap), std::invalid_argument);
}

TEST_CASE(
    "Raft §5.4.1: a log is up to date if its last term is higher, or equal with an index at least "
    "as high") {
  const Log log(0, 0, entries_with_terms({1, 2, 2}));
  CHECK(log.is_up_to_date(1, 3));        // higher last term wins even if shorter
  CHECK(log.is_up_to_date(3, 2));        // same last term, same length
  CHECK(log.is_up_to_date(9, 2));        // same last term, longer
  CHECK_FALSE(log.is_up_to_date(2, 2));  // same last term, shorter
  CHECK_FALSE(log.is_up_to_date(9, 1));  // lower last term loses even if longer
  CHECK(Log().is_up_to_date(0, 0));
}

TEST_CASE("first_index_of_term scans back to the start of the run holding the hint") {
  const Log log(0, 0, entries_with_terms({1, 1, 2, 2, 2, 3}));
  CHECK(log.first_index_of_term(2, 5) == 3);
  CHECK(log.first_index_of_term(2, 3) == 3);
  CHECK(log.first_index_of_term(1, 2) == 1);
  CHECK(log.first_index_of_term(3, 6) == 6);
}

TEST_CASE("last_index_of_term finds the last entry of a term at or before the hint") {
  const Log log(0, 0, entries_with_terms({1, 1, 4, 4, 5, 5, 6}));
  CHECK(log.last_index_of_term(4, 7) == Index{4});
  CHECK(log.last_index_of_term(4, 3) == Index{3});
  CHECK(log.last_index_of_term(6, 99) == Index{7});  // hint past the end is clamped
  CHECK(log.last_index_of_term(1, 7) == Index{2});
  CHECK_FALSE(log.last_index_of_term(2, 7).has_value());  // term absent from the log
  CHECK_FALSE(log.last_index_of_term(5, 4).has_value());  // only after the hint
  CHECK_FALSE(Log().last_index_of_term(1, 3).has_value());
}

TEST_CASE("append extends the log and truncate_from removes the suffix from an index on") {
  Log log(0, 0, entries_with_terms({1, 1, 1, 2}));
  log.truncate_from(3);
  CHECK(terms_of(log) == std::vector<Term>{1, 1});
  log.append(Entry{3, 3, EntryType::no_op, Payload{}});
  CHECK(terms_of(log) == std::vector<Term>{1, 1, 3});
  CHECK(log.at(3).type == EntryType::no_op);
  log.truncate_from(4);  // past the end: nothing to remove
  CHECK(log.last_index() == 3);
  log.truncate_from(1);
  CHECK(log.last_index() == 0);
}

TEST_CASE("slice returns [lo, hi] clipped to the log's end") {
  const Log log(0, 0, entries_with_terms({1, 1, 2, 2}));
  CHECK(indices(log.slice(2, 3, SIZE_MAX)) == std::vector<Index>{2, 3});
  CHECK(indices(log.slice(3, 99, SIZE_MAX)) == std::vector<Index>{3, 4});
  CHECK(log.slice(5, 9, SIZE_MAX).empty());
  CHECK(log.slice(3, 2, SIZE_MAX).empty());
}

TEST_CASE("slice stops before exceeding max_bytes or max_entries, but always returns one entry") {
  const Log log = log_with_sizes({4, 4, 4, 20, 4});
  CHECK(indices(log.slice(1, 5, 10)) == std::vector<Index>{1, 2});     // 8 fits, 12 would not
  CHECK(indices(log.slice(1, 5, 12)) == std::vector<Index>{1, 2, 3});  // exactly at the limit
  CHECK(indices(log.slice(4, 5, 10)) == std::vector<Index>{4});        // oversize entry alone
  CHECK(indices(log.slice(1, 5, 0)) == std::vector<Index>{1});
  CHECK(indices(log.slice(1, 5, SIZE_MAX, 2)) == std::vector<Index>{1, 2});
  CHECK(indices(log.slice(2, 5, SIZE_MAX, 1)) == std::vector<Index>{2});
}

TEST_CASE("MemoryStorage::append overwrites the stored suffix and refuses gaps") {
  MemoryStorage storage;
  storage.append(entries_with_terms({1, 1, 1}));
  storage.append(entries_with_terms({2, 2}, 2));
  REQUIRE(storage.last_index() == 3);
  CHECK(storage.entries()[0].term == 1);
  CHECK(storage.entries()[1].term == 2);
  CHECK(storage.entries()[2].term == 2);
  CHECK_THROWS_AS(storage.append(entries_with_terms({2}, 5)), std::invalid_argument);
  CHECK(storage.last_index() == 3);
}

TEST_CASE("a payload's bytes are shared by its copies and live as long as one of them") {
  std::string bytes(300, 'b');
  bytes[0] = '\0';  // any bytes, not a C string
  auto original = std::make_unique<Payload>(bytes);
  const Payload copy = *original;
  CHECK(copy.view().data() == original->view().data());  // shared, not copied
  Payload moved = std::move(*original);
  CHECK(original->empty());
  CHECK(moved.view() == bytes);
  original.reset();
  Payload assigned;
  assigned = moved;
  moved = Payload();
  CHECK(copy == assigned);
  CHECK(assigned.view() == bytes);
  assigned = assigned;  // self-assignment keeps it
  CHECK(assigned.size() == 300);
  CHECK(Payload("").empty());
  CHECK(Payload().view().empty());
}
