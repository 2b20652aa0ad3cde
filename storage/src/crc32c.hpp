#pragma once
// CRC-32C (Castagnoli), as used by iSCSI, ext4 and LevelDB: the checksum of
// every record on disk. Table-driven, slicing by 8 bytes.

#include <cstddef>
#include <cstdint>

namespace conflux::storage {

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);

}  // namespace conflux::storage
