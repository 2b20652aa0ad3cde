#pragma once
// Records, the unit of the log's segment files (docs/storage.md):
//
//   u32 length   payload bytes (little-endian)
//   u32 crc      CRC-32C of the type byte and the payload
//   u8  type     1 = entry, 2 = truncate, 3 = base
//   payload      entry:    u64 index, u64 term, u8 entry type, action bytes
//                truncate: u64 index (every entry from it on is discarded)
//                base:     u64 index, u64 term, u8 keep (a snapshot was
//                          installed: entries up to index are gone, and the
//                          ones after it too unless keep is 1)
//
// RecordReader parses a byte buffer without trusting it: lengths are bounded
// before anything is allocated, and every outcome is a value.

#include <conflux/raft/types.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace conflux::storage {

inline constexpr std::size_t record_header_bytes = 9;
inline constexpr std::uint32_t max_record_payload = 256u << 20;
inline constexpr std::string_view segment_magic = "CFLXLOG1";

enum class RecordType : std::uint8_t { entry = 1, truncate = 2, base = 3 };

std::string encode_entry_record(const raft::Entry& entry);
std::string encode_truncate_record(raft::Index from);
std::string encode_base_record(raft::Index index, raft::Term term, bool keep);

enum class ReadStatus { ok, end, incomplete, bad_length, bad_checksum, bad_payload };

struct Record {
  RecordType type = RecordType::entry;
  raft::Entry entry;           ///< for entry records
  raft::Index truncate = 0;    ///< for truncate records
  raft::Index base_index = 0;  ///< for base records
  raft::Term base_term = 0;
  bool base_keep = false;
  std::size_t size = 0;  ///< bytes the record occupies, header included
};

/// Parses the record at the front of `bytes`. `end` when bytes is empty;
/// `incomplete` when it stops inside a record.
ReadStatus read_record(std::string_view bytes, Record& out);

}  // namespace conflux::storage
