// FileStorage's snapshots: receiving and installing one chunk by chunk,
// writing the node's own, reading them for a leader's chunks, and deleting
// what the snapshots kept make redundant (docs/storage.md).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <conflux/storage/file_storage.hpp>
#include <cstring>

#include "file_util.hpp"
#include "record.hpp"
#include "snapshot_file.hpp"

namespace conflux::storage {

namespace fs = std::filesystem;

std::optional<raft::Payload> FileStorage::read_snapshot(const raft::SnapshotMeta& meta,
                                                        std::uint64_t offset,
                                                        std::size_t max) const {
  for (const Held* held : {&newest_, &previous_}) {
    if (held->fd < 0 || held->meta != meta || offset > meta.size) continue;
    const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(max, meta.size - offset));
    return raft::Payload(read_snapshot_bytes(held->fd, held->path, offset, length));
  }
  return std::nullopt;
}

void FileStorage::write_chunk(const raft::SnapshotChunk& chunk) {
  if (*failed_) throw StorageError("storage has failed; refusing to write");
  try {
    if (chunk.offset == 0) {
      incoming_ = std::make_unique<SnapshotFileWriter>(
          options_.directory, options_.directory / "incoming.tmp", chunk.meta, ops_,
          options_.fsync == FsyncPolicy::always);
    }
    const auto* received = incoming_ ? &incoming_->meta() : nullptr;
    if (!received || received->index != chunk.meta.index || received->term != chunk.meta.term ||
        received->size != chunk.offset) {
      throw StorageError("a chunk at offset " + std::to_string(chunk.offset) +
                         " of the snapshot at " + std::to_string(chunk.meta.index) +
                         " does not follow the bytes received");
    }
    incoming_->write(chunk.data.view());
    if (chunk.done) install(chunk.meta);
  } catch (const StorageError& error) {
    incoming_.reset();
    fail(error.what());
  }
}

// Raft §7 on disk: the snapshot file first (synced, renamed, directory
// synced), then a base record in the log saying whether the entries after
// it stay, synced. A crash between the two is repaired at recovery, which
// applies the same rule (recovery.cpp).
void FileStorage::install(const raft::SnapshotMeta& meta) {
  const auto writer = std::move(incoming_);
  const auto finished = writer->finish();
  if (finished != meta) {
    throw StorageError("the snapshot received at " + std::to_string(meta.index) + " holds " +
                       std::to_string(finished.size) + " bytes, not " + std::to_string(meta.size));
  }
  const bool keep = meta.index > terms_base_ && meta.index <= last_index_ &&
                    terms_[meta.index - terms_base_ - 1] == meta.term;
  write_records(encode_base_record(meta.index, meta.term, keep));
  sync();
  if (keep) {
    forget_terms_through(meta.index);
  } else {
    terms_.clear();
    terms_base_ = meta.index;
    last_index_ = meta.index;
  }
  hold(Held{meta, writer->path(), -1});
}

std::unique_ptr<SnapshotWriter> FileStorage::begin_snapshot(const raft::SnapshotMeta& identity) {
  auto temporary = snapshot_path(options_.directory, identity.index);
  temporary.replace_extension(".tmp");
  return std::make_unique<SnapshotFileWriter>(options_.directory, std::move(temporary), identity,
                                              ops_, options_.fsync == FsyncPolicy::always);
}

bool FileStorage::adopt_snapshot(SnapshotWriter& writer) {
  auto& file = dynamic_cast<SnapshotFileWriter&>(writer);
  if (file.meta().index <= newest_.meta.index) {  // an install overtook it
    fs::remove(file.path());
    return false;
  }
  forget_terms_through(file.meta().index);
  hold(Held{file.meta(), file.path(), -1});
  return true;
}

// `snapshot` becomes the newest; the previous one is kept (a leader may
// still be sending it, and recovery falls back to it if the newest is
// damaged), and the one before is deleted.
void FileStorage::hold(Held snapshot) {
  snapshot.fd = ::open(snapshot.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (snapshot.fd < 0) fail("cannot open " + snapshot.path.string() + ": " + std::strerror(errno));
  if (previous_.fd >= 0) {
    ::close(previous_.fd);
    previous_.fd = -1;      // never closed twice: the number may be reused at once
    std::error_code error;  // a file left behind costs only its space
    fs::remove(previous_.path, error);
    if (error) log("cannot delete " + previous_.path.string() + ": " + error.message());
  }
  previous_ = std::move(newest_);
  newest_ = std::move(snapshot);
  delete_covered_segments();
}

// A closed segment goes once the next one starts at or before the entry
// after the previous snapshot: recovery can still start from either
// snapshot, and the log it needs after them is all in later segments.
void FileStorage::delete_covered_segments() {
  const auto covered = previous_.meta.index;
  if (covered == 0) return;
  const auto segments = list_segments(options_.directory);
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i].number == active_sequence_) break;
    const auto next = segment_first_.find(segments[i + 1].number);
    if (next == segment_first_.end() || next->second > covered + 1) break;
    fs::remove(segments[i].path);
    segment_first_.erase(segments[i].number);
  }
}

// Terms are kept only for entries after the newest snapshot.
void FileStorage::forget_terms_through(raft::Index index) {
  if (index <= terms_base_) return;
  const auto drop = std::min<std::size_t>(terms_.size(), index - terms_base_);
  terms_.erase(terms_.begin(), terms_.begin() + static_cast<std::ptrdiff_t>(drop));
  terms_base_ = index;
}

}  // namespace conflux::storage
