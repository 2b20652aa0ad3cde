#include "record.hpp"

#include "bytes.hpp"
#include "crc32c.hpp"

namespace conflux::storage {
namespace {

std::string frame(RecordType type, const std::string& payload) {
  std::string out;
  out.reserve(record_header_bytes + payload.size());
  put_le(out, payload.size(), 4);
  const auto type_byte = static_cast<char>(type);
  std::uint32_t crc = crc32c(&type_byte, 1);
  crc = crc32c(payload.data(), payload.size(), crc);
  put_le(out, crc, 4);
  out.push_back(type_byte);
  out.append(payload);
  return out;
}

}  // namespace

std::string encode_entry_record(const raft::Entry& entry) {
  std::string payload;
  payload.reserve(17 + entry.payload.size());
  put_le(payload, entry.index, 8);
  put_le(payload, entry.term, 8);
  payload.push_back(static_cast<char>(entry.type));
  payload.append(entry.payload.view());
  return frame(RecordType::entry, payload);
}

std::string encode_truncate_record(raft::Index from) {
  std::string payload;
  put_le(payload, from, 8);
  return frame(RecordType::truncate, payload);
}

std::string encode_base_record(raft::Index index, raft::Term term, bool keep) {
  std::string payload;
  put_le(payload, index, 8);
  put_le(payload, term, 8);
  payload.push_back(keep ? 1 : 0);
  return frame(RecordType::base, payload);
}

ReadStatus read_record(std::string_view bytes, Record& out) {
  if (bytes.empty()) return ReadStatus::end;
  if (bytes.size() < record_header_bytes) return ReadStatus::incomplete;
  const auto length = static_cast<std::uint32_t>(get_le(bytes, 0, 4));
  if (length > max_record_payload) return ReadStatus::bad_length;
  if (bytes.size() - record_header_bytes < length) return ReadStatus::incomplete;
  const auto stored_crc = static_cast<std::uint32_t>(get_le(bytes, 4, 4));
  if (crc32c(bytes.data() + 8, 1 + std::size_t{length}) != stored_crc)
    return ReadStatus::bad_checksum;
  const auto type = static_cast<std::uint8_t>(bytes[8]);
  const auto payload = bytes.substr(record_header_bytes, length);
  out.size = record_header_bytes + length;
  if (type == static_cast<std::uint8_t>(RecordType::truncate) && length == 8) {
    out.type = RecordType::truncate;
    out.truncate = get_le(payload, 0, 8);
    return ReadStatus::ok;
  }
  if (type == static_cast<std::uint8_t>(RecordType::base)) {
    if (length != 17 || static_cast<std::uint8_t>(payload[16]) > 1) return ReadStatus::bad_payload;
    out.type = RecordType::base;
    out.base_index = get_le(payload, 0, 8);
    out.base_term = get_le(payload, 8, 8);
    out.base_keep = payload[16] == 1;
    return ReadStatus::ok;
  }
  if (type != static_cast<std::uint8_t>(RecordType::entry) || length < 17)
    return ReadStatus::bad_payload;
  const auto entry_type = static_cast<std::uint8_t>(payload[16]);
  if (entry_type > static_cast<std::uint8_t>(raft::last_entry_type)) return ReadStatus::bad_payload;
  out.type = RecordType::entry;
  out.entry =
      raft::Entry{get_le(payload, 8, 8), get_le(payload, 0, 8),
                  static_cast<raft::EntryType>(entry_type), raft::Payload(payload.substr(17))};
  return ReadStatus::ok;
}

}  // namespace conflux::storage
