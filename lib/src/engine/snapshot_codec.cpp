#include "snapshot_codec.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/stream_parser.hpp>
#include <stdexcept>
#include <string>

#include "carriable.hpp"

namespace conflux::detail {
namespace {

constexpr std::size_t piece_bytes = 64 << 10;
constexpr std::string_view prefix = R"({"conflux_snapshot":1,"state":)";

std::runtime_error unreadable(const raft::SnapshotMeta& meta, const std::string& why) {
  return std::runtime_error("the snapshot at " + std::to_string(meta.index) + " (term " +
                            std::to_string(meta.term) + ", " + std::to_string(meta.size) +
                            " bytes) is unreadable: " + why);
}

}  // namespace

void write_snapshot(const SnapshotContent& content, storage::SnapshotWriter& writer) {
  // Refused before anything is written: a snapshot that does not read back
  // would be adopted, and the log it replaces compacted away.
  if (auto problem = state_problem(content.state, "the state")) throw std::runtime_error(*problem);
  if (auto problem = state_problem(content.sessions, "the client sessions")) {
    throw std::runtime_error(*problem);  // texts recorded before they were checked
  }
  writer.write(prefix);
  boost::json::serializer serializer;
  char buffer[piece_bytes];
  serializer.reset(&content.state);
  while (!serializer.done()) writer.write(serializer.read(buffer, sizeof buffer));
  writer.write(",\"sessions\":");
  serializer.reset(&content.sessions);
  while (!serializer.done()) writer.write(serializer.read(buffer, sizeof buffer));
  writer.write("}");
}

SnapshotContent read_snapshot(const raft::Storage& storage, const raft::SnapshotMeta& meta) {
  boost::json::parse_options options;
  options.max_depth = max_state_depth;  // a state may nest deeper than an action may
  boost::json::stream_parser parser({}, options);
  boost::system::error_code ec;
  for (std::uint64_t offset = 0; offset < meta.size;) {
    const auto piece = storage.read_snapshot(meta, offset, piece_bytes);
    if (!piece || piece->empty()) throw unreadable(meta, "the storage no longer holds it");
    parser.write(piece->view(), ec);
    if (ec) throw unreadable(meta, ec.message());
    offset += piece->size();
  }
  parser.finish(ec);
  if (ec) throw unreadable(meta, ec.message());
  auto envelope = parser.release();
  auto* object = envelope.if_object();
  const auto* format = object ? object->if_contains("conflux_snapshot") : nullptr;
  if (!format || *format != 1 || !object->contains("state")) {
    throw unreadable(meta, "not a Conflux snapshot of format 1");
  }
  SnapshotContent content{std::move(object->at("state")), nullptr};
  if (auto* sessions = object->if_contains("sessions")) content.sessions = std::move(*sessions);
  return content;
}

}  // namespace conflux::detail
