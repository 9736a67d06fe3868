// P2P memory refusals that happen before anything is mapped, over fake trees.
#include <gtest/gtest.h>

#include "cmb/dma_buffer.h"
#include "fake_sysfs.h"

namespace {

cmb::PciAddress A(const char* s) { return *cmb::PciAddress::Parse(s); }

TEST(DmaBuffer, UnpublishedPoolIsRefusedBeforeMapping) {
  cmbtest::FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 64, .published = false, .cmbsz_flags = 0x3});
  absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateP2pMem(t.root(), A("0000:00:04.0"), 4096);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(b.status().message().find("not published"), std::string::npos) << b.status();
}

TEST(DmaBuffer, KernelWithoutAllocateIsNamed) {
  cmbtest::FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 64, .allocate = false});
  absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateP2pMem(t.root(), A("0000:00:04.0"), 4096);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("Linux >= 6.2"), std::string::npos) << b.status();
}

TEST(DmaBuffer, MoreThanAvailableIsRefusedWithTheNumbers) {
  cmbtest::FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 64});
  absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateP2pMem(t.root(), A("0000:00:04.0"), 64u << 20);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(b.status().message().find("67043328"), std::string::npos) << b.status();
}

TEST(DmaBuffer, NoPoolAndZeroBytes) {
  cmbtest::FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0");
  EXPECT_EQ(cmb::AllocateP2pMem(t.root(), A("0000:00:04.0"), 4096).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(cmb::AllocateP2pMem(t.root(), A("0000:00:04.0"), 0).ok());
  EXPECT_FALSE(cmb::AllocateHostMem(0).ok());
}

TEST(DmaBuffer, HostMemoryIsPageAlignedAndMoveOnly) {
  absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateHostMem(5000);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data()) % 4096, 0u);
  EXPECT_EQ(b->size(), 8192u);
  EXPECT_FALSE(b->is_p2p());
  cmb::DmaBuffer moved = std::move(*b);
  EXPECT_EQ(b->data(), nullptr);
  EXPECT_EQ(moved.size(), 8192u);
  moved.data()[8191] = 1;  // writable to the end
}

}  // namespace

#include <set>

#include "cmb/chunk_pool.h"

namespace {

TEST(ChunkPool, CarvesDistinctAlignedChunksAndReusesThem) {
  absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateHostMem(10 * 4096 + 100);  // 11 pages
  ASSERT_TRUE(b.ok());
  uint8_t* base = b->data();
  absl::StatusOr<cmb::ChunkPool> pool = cmb::ChunkPool::Create(std::move(*b), 2 * 4096);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(pool->chunks(), 5u);  // the odd page is left over
  std::set<uint8_t*> got;
  for (int i = 0; i < 5; ++i) {
    uint8_t* c = pool->Get();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ((c - base) % (2 * 4096), 0);
    EXPECT_LE(c + 2 * 4096, base + 11 * 4096);
    got.insert(c);
  }
  EXPECT_EQ(got.size(), 5u);
  EXPECT_EQ(pool->Get(), nullptr);
  pool->Put(*got.begin());
  EXPECT_EQ(pool->available(), 1u);
  EXPECT_EQ(pool->Get(), *got.begin());
}

TEST(ChunkPool, RejectsBadChunkSizes) {
  EXPECT_FALSE(cmb::ChunkPool::Create(*cmb::AllocateHostMem(8192), 0).ok());
  EXPECT_FALSE(cmb::ChunkPool::Create(*cmb::AllocateHostMem(8192), 1000).ok());
  EXPECT_FALSE(cmb::ChunkPool::Create(*cmb::AllocateHostMem(8192), 3 * 4096).ok());
  EXPECT_FALSE(cmb::ChunkPool::Create(cmb::DmaBuffer(), 4096).ok());
}

}  // namespace
