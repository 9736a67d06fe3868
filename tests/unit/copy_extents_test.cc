// CheckCopyExtents (copy_extents.h): a copier request's extents against the
// plan's ends.
#include "copy_extents.h"

#include <gtest/gtest.h>

namespace cmb::internal {
namespace {

CopyEnd End(const char* name, uint32_t lba, uint64_t blocks) {
  CopyEnd e;
  e.ns.name = name;
  e.ns.block_device = std::string("/dev/") + name;
  e.ns.lba_size = lba;
  e.ns.capacity_blocks = blocks;
  return e;
}

TEST(CheckCopyExtents, CountsTheBytesOfGoodExtents) {
  const CopyEnd s = End("nvme1n1", 512, 1000), d = End("nvme2n1", 4096, 100);
  absl::StatusOr<uint64_t> n = CheckCopyExtents(s, {&d}, 4096, {{0, 0, 16}, {100, 50, 8}});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 24u * 512);
}

TEST(CheckCopyExtents, RefusesPartsOfLbasEmptyExtentsAndRangesOutside) {
  const CopyEnd s = End("nvme1n1", 512, 1000), d = End("nvme2n1", 4096, 100);
  EXPECT_EQ(CheckCopyExtents(s, {&d}, 4096, {{0, 0, 4}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckCopyExtents(s, {&d}, 4096, {{0, 0, 0}}).status().message(), "extent 0 has no LBAs");
  absl::Status out = CheckCopyExtents(s, {&d}, 4096, {{0, 0, 8}, {992, 0, 16}}).status();
  EXPECT_EQ(out.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(out.message(), "extent 1: source LBAs 992..1007 leave nvme1n1 (1000 LBAs)");
  out = CheckCopyExtents(s, {&d}, 4096, {{0, 99, 16}}).status();
  EXPECT_EQ(out.message(), "extent 0: destination LBAs 99..100 leave nvme2n1 (100 LBAs)");
}

TEST(CheckCopyExtents, RefusesOverlapsOnTheDestinationAndWithinOneNamespace) {
  const CopyEnd s = End("nvme1n1", 512, 1000), d = End("nvme2n1", 512, 1000);
  absl::Status st = CheckCopyExtents(s, {&d}, 512, {{0, 10, 8}, {100, 17, 8}}).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "extents 0 and 1 overlap on the destination (LBAs 10..17 and 17..24)");
  EXPECT_TRUE(CheckCopyExtents(s, {&d}, 512, {{0, 4, 8}}).ok()) << "different namespaces may share LBAs";
  st = CheckCopyExtents(s, {&s}, 512, {{0, 4, 8}}).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "extent 0's source LBAs 0..7 overlap extent 0's destination LBAs 4..11 in nvme1n1");
}

TEST(CheckCopyExtents, EveryFanOutDestinationMustHoldTheExtent) {
  const CopyEnd s = End("nvme1n1", 512, 1000), big = End("nvme2n1", 512, 1000), small = End("nvme3n1", 512, 50);
  absl::Status st = CheckCopyExtents(s, {&big, &small}, 512, {{0, 40, 16}}).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(st.message(), "extent 0: destination LBAs 40..55 leave nvme3n1 (50 LBAs)");
}

}  // namespace
}  // namespace cmb::internal
