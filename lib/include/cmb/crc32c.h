// CRC-32C (Castagnoli, the checksum of iSCSI, ext4 metadata and NVMe's
// end-to-end protection), used by `cmbcp --verify` to summarise ranges.
// Computed by ISA-L (crc32_iscsi), which uses the CPU's fastest instructions.
//
//   uint32_t c = cmb::Crc32c(0, data, size);      // start with 0
//   c = cmb::Crc32c(c, more, more_size);          // extend
//   // Crc32c(0, "123456789", 9) == 0xe3069283
//
// Threads: pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cmb {

uint32_t Crc32c(uint32_t crc, const void* data, size_t size);

}  // namespace cmb
