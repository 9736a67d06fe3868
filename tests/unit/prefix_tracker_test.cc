// A destination's exact, contiguous prefix (prefix_tracker.h).
#include "prefix_tracker.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cmb::internal
