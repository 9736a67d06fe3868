// Extents cut into commands (chunk_cursor.h).
#include "chunk_cursor.h"

#include <gtest/gtest.h>

namespace cmb::internal {
namespace {

TEST(ChunkCursor, CutsExtentsIntoChunksNeverAcrossAnExtentsEnd) {
  // 512-byte source LBAs, 4096-byte destination LBAs, 8 KiB chunks.
  ChunkCursor cur({{.src_lba = 0, .dst_lba = 10, .count = 40}, {.src_lba = 100, .dst_lba = 50, .count = 8}},
                  {.src_lba = 512, .dst_lba = 4096, .chunk = 8192});
  std::vector<ChunkCursor::Piece> got;
  while (!cur.done()) {
    got.push_back(cur.Peek());
    cur.Advance();
  }
  ASSERT_EQ(got.size(), 4u);  // 20 KiB = 8 + 8 + 4, then 4 KiB
  EXPECT_EQ(got[1].src_slba, 16u);
  EXPECT_EQ(got[1].dst_slba, 12u);
  EXPECT_EQ(got[2].bytes, 4096u) << "the extent's short last piece";
  EXPECT_EQ(got[2].offset, 16384u);
  EXPECT_EQ(got[3].ext, 1u);
  EXPECT_EQ(got[3].src_slba, 100u);
  EXPECT_EQ(got[3].dst_slba, 50u);
  EXPECT_EQ(got[3].offset, 20480u);
}

TEST(ChunkCursor, PeekDoesNotMove) {
  ChunkCursor cur({{.src_lba = 0, .dst_lba = 0, .count = 16}}, {.src_lba = 512, .dst_lba = 512, .chunk = 4096});
  EXPECT_EQ(cur.Peek().offset, 0u);
  EXPECT_EQ(cur.Peek().offset, 0u);
  cur.Advance();
  EXPECT_EQ(cur.Peek().offset, 4096u);
}

}  // namespace
}  // namespace cmb::internal
