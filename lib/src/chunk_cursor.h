// ChunkCursor: walks a request's extents in chunks of at most chunk_bytes,
// never across an extent's end (its last piece may be short). Peek() says
// what the next command moves; Advance() commits it once it was queued, so a
// refused command is tried again as the same piece.
//
//   ChunkCursor cur(std::move(extents), {.src_lba = 512, .dst_lba = 4096, .chunk = 128 << 10});
//   while (!cur.done()) { ChunkCursor::Piece p = cur.Peek(); if (!queue(p)) break; cur.Advance(); }
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "cmb/extent_list.h"

#pragma GCC visibility push(hidden)
namespace cmb::internal {

class ChunkCursor {
 public:
  struct Sizes {
    uint64_t src_lba = 0;  // bytes per source LBA
    uint64_t dst_lba = 0;  // bytes per destination LBA (a fan-out's destinations share it)
    uint64_t chunk = 0;    // bytes per command at most
  };
  struct Piece {
    size_t ext = 0;        // the extent it belongs to
    uint64_t offset = 0;   // its first byte in the request
    uint64_t bytes = 0;
    uint64_t src_slba = 0, dst_slba = 0;
  };
  ChunkCursor() = default;  // no extents: done()
  ChunkCursor(std::vector<Extent> extents, Sizes sizes) : ext_(std::move(extents)), sz_(sizes) {}

  bool done() const { return i_ >= ext_.size(); }
  const std::vector<Extent>& extents() const { return ext_; }
  Piece Peek() const {
    const Extent& e = ext_[i_];
    return {.ext = i_,
            .offset = offset_,
            .bytes = std::min(sz_.chunk, e.count * sz_.src_lba - ext_off_),
            .src_slba = e.src_lba + ext_off_ / sz_.src_lba,
            .dst_slba = e.dst_lba + ext_off_ / sz_.dst_lba};
  }
  void Advance() {
    const uint64_t bytes = Peek().bytes;
    offset_ += bytes;
    if ((ext_off_ += bytes) == ext_[i_].count * sz_.src_lba) ++i_, ext_off_ = 0;
  }

 private:
  std::vector<Extent> ext_;
  Sizes sz_{};
  size_t i_ = 0;         // the next piece's extent,
  uint64_t ext_off_ = 0; // its byte offset in that extent,
  uint64_t offset_ = 0;  // and in the request
};

}  // namespace cmb::internal
#pragma GCC visibility pop
