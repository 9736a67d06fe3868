#include "cmb/chunk_pool.h"

#include <unistd.h>

#include <cassert>

#include "absl/strings/str_format.h"

namespace cmb {

absl::StatusOr<ChunkPool> ChunkPool::Create(DmaBuffer buffer, size_t chunk_bytes) {
  size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  if (chunk_bytes == 0 || chunk_bytes % page != 0)
    return absl::InvalidArgumentError(
        absl::StrFormat("chunk size %u is not a non-zero multiple of the page size (%u)", chunk_bytes, page));
  if (buffer.data() == nullptr || buffer.size() < chunk_bytes)
    return absl::InvalidArgumentError(
        absl::StrFormat("a buffer of %u bytes holds no chunk of %u bytes", buffer.size(), chunk_bytes));
  return ChunkPool(std::move(buffer), chunk_bytes);
}

ChunkPool::ChunkPool(DmaBuffer buffer, size_t chunk_bytes)
    : buffer_(std::move(buffer)), chunk_bytes_(chunk_bytes), chunks_(buffer_.size() / chunk_bytes) {
  free_.reserve(chunks_);
  for (size_t i = chunks_; i > 0; --i) free_.push_back(buffer_.data() + (i - 1) * chunk_bytes_);
}

uint8_t* ChunkPool::Get() {
  if (free_.empty()) return nullptr;
  uint8_t* c = free_.back();
  free_.pop_back();
  return c;
}

void ChunkPool::Put(uint8_t* chunk) {
  assert(chunk >= buffer_.data() && chunk < buffer_.data() + chunks_ * chunk_bytes_ &&
         (chunk - buffer_.data()) % static_cast<ptrdiff_t>(chunk_bytes_) == 0 && free_.size() < chunks_);
  free_.push_back(chunk);
}

}  // namespace cmb
