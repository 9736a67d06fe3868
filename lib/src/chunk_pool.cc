#include "cmb/chunk_pool.h"
#include "cmb/page.h"

#include <unistd.h>

#include "absl/strings/str_format.h"

namespace cmb {

absl::StatusOr<ChunkPool> ChunkPool::Create(DmaBuffer buffer, size_t chunk_bytes) {
  std::vector<DmaBuffer> one;
  one.push_back(std::move(buffer));
  return Create(std::move(one), chunk_bytes);
}

absl::StatusOr<ChunkPool> ChunkPool::Create(std::vector<DmaBuffer> buffers, size_t chunk_bytes) {
  size_t page = static_cast<size_t>(PageBytes());
  if (chunk_bytes == 0 || chunk_bytes % page != 0)
    return absl::InvalidArgumentError(
        absl::StrFormat("chunk size %u is not a non-zero multiple of the page size (%u)", chunk_bytes, page));
  if (buffers.empty()) return absl::InvalidArgumentError("a chunk pool needs at least one buffer");
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].data() == nullptr || buffers[i].size() < chunk_bytes)
      return absl::InvalidArgumentError(absl::StrFormat(
          "a buffer of %u bytes holds no chunk of %u bytes%s", buffers[i].size(), chunk_bytes,
          buffers.size() > 1 ? absl::StrFormat(" (buffer %u of %u)", i, buffers.size()) : ""));
  return ChunkPool(std::move(buffers), chunk_bytes);
}

ChunkPool::ChunkPool(std::vector<DmaBuffer> buffers, size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {
  for (DmaBuffer& b : buffers) {
    Part& p = parts_.emplace_back();
    p.buffer = std::move(b);
    p.chunks = p.buffer.size() / chunk_bytes;
    p.in_use.assign(p.chunks, false);
    p.free.reserve(p.chunks);
    for (size_t i = p.chunks; i > 0; --i) p.free.push_back(i - 1);  // chunk 0 first
    chunks_ += p.chunks;
  }
  available_ = chunks_;
}

std::optional<DmaSpan> ChunkPool::Get() {
  // The next buffer in turn that has a free chunk.
  for (size_t k = 0; k < parts_.size(); ++k) {
    const size_t n = (next_ + k) % parts_.size();
    Part& p = parts_[n];
    if (p.free.empty()) continue;
    size_t i = p.free.back();
    p.free.pop_back();
    p.in_use[i] = true;
    --available_;
    next_ = (n + 1) % parts_.size();
    return *p.buffer.Slice(i * chunk_bytes_, chunk_bytes_);  // in range by construction
  }
  return std::nullopt;
}

absl::Status ChunkPool::Put(const DmaSpan& chunk) {
  for (Part& p : parts_) {
    const uint8_t* base = p.buffer.data();
    if (chunk.data() < base || chunk.data() >= base + p.chunks * chunk_bytes_) continue;
    if ((chunk.data() - base) % static_cast<ptrdiff_t>(chunk_bytes_) != 0 || chunk.size() != chunk_bytes_) break;
    size_t i = static_cast<size_t>(chunk.data() - base) / chunk_bytes_;
    if (!p.in_use[i])
      return absl::InvalidArgumentError(absl::StrFormat("chunk %u of the pool was already returned", i));
    p.in_use[i] = false;
    p.free.push_back(i);
    ++available_;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%u bytes at %p are not a chunk of this pool (%u chunks of %u bytes at %p%s)", chunk.size(),
      static_cast<const void*>(chunk.data()), chunks_, chunk_bytes_, static_cast<const void*>(parts_[0].buffer.data()),
      parts_.size() > 1 ? absl::StrFormat(" and %u more buffers", parts_.size() - 1) : ""));
}

}  // namespace cmb
