#include "tab_storage.hpp"

#include <boost/json/parse.hpp>
#include <stdexcept>

#include "volatile_storage.hpp"

namespace conflux::browser {
namespace {

namespace json = boost::json;

[[noreturn]] void unusable(const std::string& what) {
  throw std::invalid_argument(what);
}

const json::value& member(const json::object& object, std::string_view key,
                          std::string_view where) {
  const auto* value = object.if_contains(key);
  if (!value) unusable(std::string(where) + " has no \"" + std::string(key) + "\"");
  return *value;
}

std::uint64_t integer(const json::object& object, std::string_view key, std::string_view where) {
  const auto& value = member(object, key, where);
  if (!value.is_number())
    unusable(std::string(where) + ": \"" + std::string(key) + "\" is not a number");
  return value.to_number<std::uint64_t>();
}

std::string text(const json::object& object, std::string_view key, std::string_view where) {
  const auto& value = member(object, key, where);
  if (!value.is_string())
    unusable(std::string(where) + ": \"" + std::string(key) + "\" is not a string");
  return std::string(value.as_string());
}

const json::object& object_of(const json::value& value, std::string_view what) {
  if (!value.is_object()) unusable(std::string(what) + " is not an object");
  return value.as_object();
}

json::object entry_json(const raft::Entry& entry) {
  return {{"index", entry.index},
          {"term", entry.term},
          {"type", static_cast<int>(entry.type)},
          {"payload", entry.payload.view()}};
}

}  // namespace

TabStorage::TabStorage(const std::string& restored) {
  json::value parsed;
  try {
    parsed = json::parse(restored);
  } catch (const std::exception& error) {
    unusable(std::string("not JSON: ") + error.what());
  }
  const auto& saved = object_of(parsed, "what IndexedDB holds");
  if (const auto* hard = saved.if_contains("hardState"); hard && !hard->is_null()) {
    const auto& h = object_of(*hard, "the hard state");
    hard_state_ = {.term = integer(h, "term", "the hard state"),
                   .vote = text(h, "vote", "the hard state"),
                   .commit = integer(h, "commit", "the hard state")};
  }
  if (const auto* snapshot = saved.if_contains("snapshot"); snapshot && !snapshot->is_null())
    restore_snapshot(object_of(*snapshot, "the snapshot"));
  const auto& entries = member(saved, "entries", "what IndexedDB holds");
  if (!entries.is_array()) unusable("the log is not an array");
  restore_entries(entries.as_array());
}

void TabStorage::restore_snapshot(const json::object& saved) {
  const auto& m = object_of(member(saved, "meta", "the snapshot"), "the snapshot's meta");
  raft::SnapshotMeta meta{.index = integer(m, "index", "the snapshot"),
                          .term = integer(m, "term", "the snapshot"),
                          .size = integer(m, "size", "the snapshot")};
  auto configuration = raft::decode_configuration(text(m, "configuration", "the snapshot"));
  if (!configuration) unusable("the snapshot's configuration is not valid");
  meta.configuration = std::move(*configuration);
  auto data = text(saved, "data", "the snapshot");
  if (data.size() != meta.size) {
    unusable("the snapshot at " + std::to_string(meta.index) + " holds " +
             std::to_string(data.size()) + " bytes, not " + std::to_string(meta.size));
  }
  snapshots_.keep(meta, raft::Payload(std::move(data)));
}

// Entries at or below the snapshot's index are covered by it (none are
// stored so, but they would be harmless); the rest must follow it without
// a gap.
void TabStorage::restore_entries(const json::array& saved) {
  for (const auto& item : saved) {
    const auto& e = object_of(item, "a log entry");
    raft::Entry entry{.term = integer(e, "term", "a log entry"),
                      .index = integer(e, "index", "a log entry"),
                      .type = static_cast<raft::EntryType>(integer(e, "type", "a log entry")),
                      .payload = raft::Payload(text(e, "payload", "a log entry"))};
    if (entry.index <= snapshots_.newest().index) continue;
    if (entry.index != last_index() + 1) {
      unusable("the log holds entry " + std::to_string(entry.index) + " after " +
               (terms_.empty() ? "the snapshot at " + std::to_string(snapshots_.newest().index)
                               : "entry " + std::to_string(last_index())));
    }
    terms_.push_back(entry.term);
    restored_.push_back(std::move(entry));
  }
}

void TabStorage::append(std::span<const raft::Entry> entries) {
  for (const auto& entry : entries) {
    const auto base = snapshots_.newest().index;
    if (entry.index <= base) continue;  // the snapshot holds it (storage.hpp)
    if (entry.index > last_index() + 1) {
      throw std::invalid_argument("TabStorage::append: entry " + std::to_string(entry.index) +
                                  " would leave a gap after " + std::to_string(last_index()));
    }
    terms_.resize(entry.index - base - 1);
    terms_.push_back(entry.term);
  }
}

// With the last chunk, the snapshot is installed (Raft §7): the entries it
// covers go, and those after it too unless the entry at its index has its
// term (then the log after it is the leader's, Log Matching).
void TabStorage::write_chunk(const raft::SnapshotChunk& chunk) {
  const auto& meta = chunk.meta;
  const bool keep = meta.index > snapshots_.newest().index && meta.index <= last_index() &&
                    terms_[meta.index - snapshots_.newest().index - 1] == meta.term;
  const auto before = snapshots_.newest().index;
  if (!snapshots_.receive(chunk)) return;
  installed_ = true;
  if (keep) {
    terms_.erase(terms_.begin(), terms_.begin() + static_cast<std::ptrdiff_t>(meta.index - before));
  } else {
    terms_.clear();
    dropped_after_ = true;
  }
}

std::unique_ptr<storage::SnapshotWriter> TabStorage::begin_snapshot(
    const raft::SnapshotMeta& identity) {
  return std::make_unique<detail::StringSnapshotWriter>(identity);
}

bool TabStorage::adopt_snapshot(storage::SnapshotWriter& writer) {
  auto& finished = dynamic_cast<detail::StringSnapshotWriter&>(writer);
  if (finished.meta().index <= snapshots_.newest().index) return false;
  forget_through(finished.meta().index);
  snapshots_.keep(finished.meta(), raft::Payload(std::move(finished.bytes())));
  return true;
}

// Called before the snapshot at `index` becomes the newest.
void TabStorage::forget_through(raft::Index index) {
  const auto covered = std::min<std::uint64_t>(index - snapshots_.newest().index, terms_.size());
  terms_.erase(terms_.begin(), terms_.begin() + static_cast<std::ptrdiff_t>(covered));
}

json::object TabStorage::apply(const raft::Ready& ready) {
  installed_ = dropped_after_ = false;
  for (const auto& chunk : ready.snapshot_chunks) write_chunk(chunk);
  if (ready.hard_state) save_hard_state(*ready.hard_state);
  append(ready.entries);

  json::object write;
  json::value hard = nullptr;
  if (ready.hard_state) {
    hard = {{"term", hard_state_.term}, {"vote", hard_state_.vote}, {"commit", hard_state_.commit}};
  }
  write["hardState"] = std::move(hard);
  json::array entries;
  for (const auto& entry : ready.entries) {
    if (entry.index > snapshots_.newest().index) entries.push_back(entry_json(entry));
  }
  write["entries"] = std::move(entries);
  if (installed_) {
    write["snapshot"] = snapshot_json();
    write["dropThrough"] = snapshots_.newest().index;
    if (dropped_after_) write["dropAfter"] = snapshots_.newest().index;
  }
  return write;
}

json::object TabStorage::adopted_write() const {
  return {{"hardState", nullptr},
          {"entries", json::array()},
          {"snapshot", snapshot_json()},
          {"dropThrough", snapshots_.newest().index}};
}

json::object TabStorage::snapshot_json() const {
  const auto& meta = snapshots_.newest();
  return {{"meta",
           {{"index", meta.index},
            {"term", meta.term},
            {"size", meta.size},
            {"configuration", raft::encode(meta.configuration)}}},
          {"data", snapshots_.newest_data().view()}};
}

}  // namespace conflux::browser
