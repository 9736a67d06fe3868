// CRC-32C by ISA-L's crc32_iscsi, which picks the fastest code for the CPU at
// run time (PCLMULQDQ/AVX-512 folding on x86, PMULL on arm64) where the old
// code here had an SSE4.2 loop on x86 and a byte table elsewhere.
#include "cmb/crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>

namespace cmb {

uint32_t Crc32c(uint32_t crc, const void* data, size_t size) {
  // crc32_iscsi neither inverts its seed nor its result; CRC-32C does both,
  // so Crc32c's results (and extending one with the next piece) equal the
  // standard's. It takes a non-const pointer but only reads, and an int
  // length: pieces of at most 1 GiB.
  auto* p = static_cast<unsigned char*>(const_cast<void*>(data));
  uint32_t c = ~crc;
  constexpr size_t kPiece = size_t{1} << 30;
  while (size > 0) {
    size_t n = std::min(size, kPiece);
    c = crc32_iscsi(p, static_cast<int>(n), c);
    p += n;
    size -= n;
  }
  return ~c;
}

}  // namespace cmb
