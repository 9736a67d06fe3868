#include "cmb/chunk_pool.h"

#include <unistd.h>

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
    : buffer_(std::move(buffer)), chunk_bytes_(chunk_bytes), chunks_(buffer_.size() / chunk_bytes),
      in_use_(chunks_, false) {
  free_.reserve(chunks_);
  for (size_t i = chunks_; i > 0; --i) free_.push_back(i - 1);
}

std::optional<DmaSpan> ChunkPool::Get() {
  if (free_.empty()) return std::nullopt;
  size_t i = free_.back();
  free_.pop_back();
  in_use_[i] = true;
  return *buffer_.Slice(i * chunk_bytes_, chunk_bytes_);  // in range by construction
}

absl::Status ChunkPool::Put(const DmaSpan& chunk) {
  const uint8_t* base = buffer_.data();
  if (chunk.data() < base || chunk.data() >= base + chunks_ * chunk_bytes_ ||
      (chunk.data() - base) % static_cast<ptrdiff_t>(chunk_bytes_) != 0 || chunk.size() != chunk_bytes_)
    return absl::InvalidArgumentError(absl::StrFormat(
        "%u bytes at %p are not a chunk of this pool (%u chunks of %u bytes at %p)", chunk.size(),
        static_cast<const void*>(chunk.data()), chunks_, chunk_bytes_, static_cast<const void*>(base)));
  size_t i = static_cast<size_t>(chunk.data() - base) / chunk_bytes_;
  if (!in_use_[i])
    return absl::InvalidArgumentError(absl::StrFormat("chunk %u of the pool was already returned", i));
  in_use_[i] = false;
  free_.push_back(i);
  return absl::OkStatus();
}

}  // namespace cmb
