// ChunkPool: carves one DmaBuffer into equal, page-aligned chunks handed out
// and returned in O(1). P2P memory is mapped once (each mmap of p2pmem/allocate
// is a separate contiguous allocation from a small pool), then reused per I/O.
//
//   absl::StatusOr<cmb::ChunkPool> pool = cmb::ChunkPool::Create(std::move(buf), 128 << 10);
//   uint8_t* c = pool->Get();   // nullptr when all chunks are in use
//   ... I/O into c ...
//   pool->Put(c);
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/dma_buffer.h"

namespace cmb {

class ChunkPool {
 public:
  // `chunk_bytes` must be a non-zero multiple of the page size and fit at least once.
  static absl::StatusOr<ChunkPool> Create(DmaBuffer buffer, size_t chunk_bytes);

  uint8_t* Get();
  void Put(uint8_t* chunk);  // a chunk from this pool, not already returned

  size_t chunk_bytes() const { return chunk_bytes_; }
  size_t chunks() const { return chunks_; }
  size_t available() const { return free_.size(); }
  const DmaBuffer& buffer() const { return buffer_; }

 private:
  ChunkPool(DmaBuffer buffer, size_t chunk_bytes);
  DmaBuffer buffer_;
  size_t chunk_bytes_ = 0;
  size_t chunks_ = 0;
  std::vector<uint8_t*> free_;
};

}  // namespace cmb
