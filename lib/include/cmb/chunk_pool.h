// ChunkPool: carves one DmaBuffer into equal, page-aligned chunks handed out
// and returned in O(1). P2P memory is mapped once (each mmap of p2pmem/allocate
// is a separate contiguous allocation from a small pool), then reused per I/O.
// Not thread-safe: one pool per thread, like NvmeQueue. Over several buffers
// (a copy striped over several CMBs), Get() takes them in turn, so
// consecutive chunks lie in different CMBs and each one's BAR carries a share.
//
//   absl::StatusOr<cmb::ChunkPool> pool = cmb::ChunkPool::Create(std::move(buf), 128 << 10);
//   // or ChunkPool::Create(std::move(buffers), 128 << 10): one buffer per CMB
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
  // Chunks from every buffer (each must hold at least one), handed out in
  // turn; a buffer's odd remainder is left over, as above.
  static absl::StatusOr<ChunkPool> Create(std::vector<DmaBuffer> buffers, size_t chunk_bytes);

  std::optional<DmaSpan> Get();
  // Returns a chunk that Get() handed out, of any of its buffers.
  // InvalidArgument, and the pool unchanged, for a span that is not exactly
  // one of this pool's chunks, or one already returned: a second owner of a
  // chunk would DMA over the first.
  absl::Status Put(const DmaSpan& chunk);

  size_t chunk_bytes() const { return chunk_bytes_; }
  size_t chunks() const { return chunks_; }  // of all buffers
  size_t available() const { return available_; }
  const DmaBuffer& buffer() const { return parts_[0].buffer; }  // the first
  size_t buffer_count() const { return parts_.size(); }
  const DmaBuffer& buffer(size_t i) const { return parts_[i].buffer; }

 private:
  struct Part {
    DmaBuffer buffer;
    size_t chunks = 0;
    std::vector<size_t> free;  // chunk indexes in this buffer, the last returned on top
    std::vector<bool> in_use;  // by chunk index
  };
  ChunkPool(std::vector<DmaBuffer> buffers, size_t chunk_bytes);
  std::vector<Part> parts_;
  size_t chunk_bytes_ = 0;
  size_t chunks_ = 0, available_ = 0;
  size_t next_ = 0;  // the part Get() tries first
};

}  // namespace cmb
