// The copier's small rooms: the prefix tracker, the pacer and the chunk
// cursor (prefix_tracker.h, pacer.h, chunk_cursor.h).
#include <gtest/gtest.h>

#include "chunk_cursor.h"
#include "pacer.h"
#include "prefix_tracker.h"

namespace cmb::internal {
namespace {

TEST(PrefixTracker, GrowsOnlyWhenTheGapBeforeAPieceFills) {
  PrefixTracker t;
  t.Done(8192, 4096);
  t.Done(4096, 4096);
  EXPECT_EQ(t.prefix(), 0u);
  EXPECT_EQ(t.written(), 8192u);
  t.Done(0, 4096);
  EXPECT_EQ(t.prefix(), 12288u);
  t.Done(16384, 100);
  EXPECT_EQ(t.prefix(), 12288u) << "bytes 12288..16383 are missing";
  EXPECT_EQ(t.written(), 12388u);
}

TEST(Pacer, StartsACommandOnceTheBytesBeforeItFitTheRate) {
  using Clock = Pacer::Clock;
  const Clock::time_point t0{};
  Pacer p(1000, t0);  // 1000 bytes a second
  EXPECT_TRUE(p.MayStart(t0));
  p.Started(500);
  EXPECT_EQ(p.NextStart(), t0 + std::chrono::milliseconds(500));
  EXPECT_FALSE(p.MayStart(t0 + std::chrono::milliseconds(499)));
  EXPECT_TRUE(p.MayStart(t0 + std::chrono::milliseconds(500)));
}

TEST(Pacer, IdleTimeEarnsNoCredit) {
  using Clock = Pacer::Clock;
  const Clock::time_point t0{};
  Pacer p(1000, t0);
  p.Started(1000);
  const Clock::time_point later = t0 + std::chrono::seconds(10);
  p.Idle(later);  // 9 s behind the schedule: it restarts from now
  EXPECT_TRUE(p.MayStart(later));
  p.Started(1000);
  EXPECT_EQ(p.NextStart(), later + std::chrono::seconds(1)) << "not a burst of 9 s worth";
  Pacer ahead(1000, t0);
  ahead.Started(5000);
  ahead.Idle(t0 + std::chrono::seconds(1));  // still ahead of the schedule: nothing changes
  EXPECT_EQ(ahead.NextStart(), t0 + std::chrono::seconds(5));
}

TEST(Pacer, WithoutARateEverythingMayStart) {
  Pacer p(0, Pacer::Clock::time_point{});
  p.Started(1ull << 40);
  EXPECT_FALSE(p.limited());
  EXPECT_TRUE(p.MayStart(Pacer::Clock::time_point{}));
}

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
