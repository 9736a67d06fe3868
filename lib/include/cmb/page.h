// PageBytes: the host's page size, the one source of it in cmb. P2P memory is
// handed out in pages (p2pmem_alloc_mmap), I/O buffers must be page aligned,
// and every chunk of a copy is whole pages. It is 4 KiB on x86, but arm64
// kernels may use 16 or 64 KiB, so it is read, never assumed.
//
//   uint64_t unit = std::lcm<uint64_t>(lba_size, cmb::PageBytes());
//
// Threads: safe (read once).
#pragma once

#include <cstdint>

namespace cmb {

uint64_t PageBytes();

}  // namespace cmb
