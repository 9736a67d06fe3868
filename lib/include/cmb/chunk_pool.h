// ChunkPool: carves one DmaBuffer into equal, page-aligned chunks handed out
// and returned in O(1). P2P memory is mapped once (each mmap of p2pmem/allocate
// is a separate contiguous allocation from a small pool), then reused per I/O.
// Not thread-safe: one pool per thread, like NvmeQueue.
//
//   absl::StatusOr<cmb::ChunkPool> pool = cmb::ChunkPool::Create(std::move(buf), 128 << 10);
//   std::optional<cmb::DmaSpan> c = pool->Get();   // nullopt when all chunks are in use
//   ... I/O into *c ...
//   CMB_RETURN_IF_ERROR(pool->Put(*c));            // refuses a foreign or free chunk
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/dma_buffer.h"

namespace cmb {

class ChunkPool {
 public:
  // `chunk_bytes` must be a non-zero multiple of the page size and fit at least once.
  static absl::StatusOr<ChunkPool> Create(DmaBuffer buffer, size_t chunk_bytes);

  std::optional<DmaSpan> Get();
  // Returns a chunk that Get() handed out. InvalidArgument, and the pool
  // unchanged, for a span that is not exactly one of this pool's chunks, or
  // one already returned: a second owner of a chunk would DMA over the first.
  absl::Status Put(const DmaSpan& chunk);

  size_t chunk_bytes() const { return chunk_bytes_; }
  size_t chunks() const { return chunks_; }
  size_t available() const { return free_.size(); }
  const DmaBuffer& buffer() const { return buffer_; }

 private:
  ChunkPool(DmaBuffer buffer, size_t chunk_bytes);
  DmaBuffer buffer_;
  size_t chunk_bytes_ = 0;
  size_t chunks_ = 0;
  std::vector<size_t> free_;   // chunk indexes
  std::vector<bool> in_use_;   // by chunk index
};

}  // namespace cmb
