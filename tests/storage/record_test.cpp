// Specification of the record format (storage/src/record.hpp): encoding
// and parsing round trip, every damaged byte is detected, and a length the
// bytes merely announce is refused before anything is allocated.
#include "record.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <new>

#include "crc32c.hpp"
#include "storage/storage_test_util.hpp"
#include "support/allocation_probe.hpp"

using namespace conflux;
using namespace conflux::storage;
using namespace conflux::storage::test;

// ------------------------------------------------------------ allocation probe
//
// Parsing must never allocate what a record merely announces: checked with
// the allocation probe (tests/support/allocation_probe.hpp).

using conflux::test::AllocationProbe;

// ------------------------------------------------------------ helpers

namespace {

/// A record header announcing `length` payload bytes (checksum and type zero).
std::string header_announcing(std::uint32_t length) {
  std::string header(record_header_bytes, '\0');
  for (int i = 0; i < 4; ++i)
    header[static_cast<std::size_t>(i)] = static_cast<char>(length >> (8 * i));
  return header;
}

}  // namespace

// ------------------------------------------------------------ checksum

TEST_CASE("crc32c matches the published Castagnoli check values") {
  CHECK(crc32c("123456789", 9) == 0xE3069283u);
  CHECK(crc32c("", 0) == 0u);
  const std::string zeros(32, '\0');
  CHECK(crc32c(zeros.data(), zeros.size()) == 0x8A9136AAu);  // RFC 3720 B.4
}

TEST_CASE("crc32c computed in pieces equals crc32c of the whole") {
  const std::string bytes = payload_bytes(12345, 3) + payload_bytes(999, 1);
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    const auto first = crc32c(bytes.data(), split);
    CHECK(crc32c(bytes.data() + split, bytes.size() - split, first) ==
          crc32c(bytes.data(), bytes.size()));
  }
}

// ------------------------------------------------------------ round trips

TEST_CASE("an entry record parses back to the entry it encodes, with its size") {
  for (const auto& entry :
       {make_entry(1, 1), make_entry(6, 1) /* empty payload */,
        raft::Entry{(std::uint64_t{1} << 53) - 1, ~std::uint64_t{0}, raft::EntryType::normal,
                    raft::Payload(std::string("\0\xff binary", 9))}}) {
    const auto bytes = encode_entry_record(entry);
    Record record;

    REQUIRE(read_record(bytes, record) == ReadStatus::ok);

    CHECK(record.type == RecordType::entry);
    CHECK(record.entry == entry);
    CHECK(record.size == bytes.size());
    CHECK(bytes.size() == record_header_bytes + 17 + entry.payload.size());
  }
}

TEST_CASE("a truncate record parses back to its index") {
  const auto bytes = encode_truncate_record(42);
  Record record;

  REQUIRE(read_record(bytes, record) == ReadStatus::ok);

  CHECK(record.type == RecordType::truncate);
  CHECK(record.truncate == 42);
  CHECK(record.size == record_header_bytes + 8);
}

TEST_CASE("records read one after another from a buffer end with end") {
  const std::string bytes = encode_entry_record(make_entry(1, 2)) + encode_truncate_record(1) +
                            encode_entry_record(make_entry(1, 3));
  std::string_view rest = bytes;
  Record record;
  std::vector<RecordType> types;
  while (read_record(rest, record) == ReadStatus::ok) {
    types.push_back(record.type);
    rest.remove_prefix(record.size);
  }
  CHECK(types == std::vector{RecordType::entry, RecordType::truncate, RecordType::entry});
  CHECK(read_record(rest, record) == ReadStatus::end);
}

// ------------------------------------------------------------ damage

TEST_CASE("a record cut at any byte is incomplete") {
  const auto bytes = encode_entry_record(make_entry(7, 2));
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    CAPTURE(cut);
    Record record;
    CHECK(read_record(std::string_view(bytes).substr(0, cut), record) == ReadStatus::incomplete);
  }
}

TEST_CASE("any flipped bit of a record is detected") {
  const auto original = encode_entry_record(make_entry(9, 4));
  for (std::size_t at = 0; at < original.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bytes = original;
      bytes[at] = static_cast<char>(bytes[at] ^ (1 << bit));
      Record record;
      const auto status = read_record(bytes, record);
      CAPTURE(at);
      CAPTURE(bit);
      CHECK(status != ReadStatus::ok);
    }
  }
}

TEST_CASE("a bad checksum is reported as such") {
  auto bytes = encode_entry_record(make_entry(11, 1));
  bytes[record_header_bytes + 3] = static_cast<char>(bytes[record_header_bytes + 3] ^ 0x01);
  Record record;
  CHECK(read_record(bytes, record) == ReadStatus::bad_checksum);
}

TEST_CASE("a well-checksummed record of an unknown type or entry type is a bad payload") {
  raft::Entry entry = make_entry(3, 1);
  auto bytes = encode_entry_record(entry);
  SUBCASE("unknown entry type") {
    bytes[record_header_bytes + 16] = 7;
  }
  SUBCASE("unknown record type") {
    bytes[8] = 9;
  }
  // Re-seal the checksum over type and payload, so only the meaning is wrong.
  const auto crc = crc32c(bytes.data() + 8, bytes.size() - 8);
  for (int i = 0; i < 4; ++i)
    bytes[static_cast<std::size_t>(4 + i)] = static_cast<char>(crc >> (8 * i));
  Record record;
  CHECK(read_record(bytes, record) == ReadStatus::bad_payload);
}

TEST_CASE("a length over max_record_payload is refused from the header alone, without allocating") {
  for (const std::uint32_t length : {max_record_payload + 1, std::uint32_t{0xffffffff}}) {
    CAPTURE(length);
    const auto header = header_announcing(length);
    Record record;
    ReadStatus status{};
    std::size_t allocated = 0;
    {
      AllocationProbe probe;
      status = read_record(header, record);
      allocated = probe.count();
    }
    CHECK(status == ReadStatus::bad_length);
    CHECK(allocated == 0);
  }
}

TEST_CASE("a length within the limit but beyond the buffer is incomplete, without allocating") {
  const auto header = header_announcing(max_record_payload);
  Record record;
  ReadStatus status{};
  std::size_t allocated = 0;
  {
    AllocationProbe probe;
    status = read_record(header, record);
    allocated = probe.count();
  }
  CHECK(status == ReadStatus::incomplete);
  CHECK(allocated == 0);
}
