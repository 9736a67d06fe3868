// The copier's rate limit (pacer.h), with time passed in.
#include "pacer.h"

#include <gtest/gtest.h>

namespace cmb::internal {
namespace {

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

}  // namespace
}  // namespace cmb::internal
