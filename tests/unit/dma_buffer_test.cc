// P2P memory refusals that happen before anything is mapped, over fake trees.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>

#include "cmb/fix.h"
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
  const std::vector<cmb::Fix> fixes = cmb::FixesOf(b.status());
  ASSERT_EQ(fixes.size(), 1u) << b.status();
  EXPECT_EQ(fixes[0].kind, cmb::Fix::Kind::kKernel);
  EXPECT_EQ(fixes[0].need, "Linux >= 6.2 with CONFIG_PCI_P2PDMA");
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
  std::map<uint8_t*, cmb::DmaSpan> got;
  for (int i = 0; i < 5; ++i) {
    std::optional<cmb::DmaSpan> c = pool->Get();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ((c->data() - base) % (2 * 4096), 0);
    EXPECT_EQ(c->size(), 2u * 4096);
    EXPECT_LE(c->data() + c->size(), base + 11 * 4096);
    EXPECT_FALSE(c->is_p2p());
    got.emplace(c->data(), *c);
  }
  EXPECT_EQ(got.size(), 5u);
  EXPECT_FALSE(pool->Get().has_value());
  ASSERT_TRUE(pool->Put(got.begin()->second).ok());
  EXPECT_EQ(pool->available(), 1u);
  EXPECT_EQ(pool->Get()->data(), got.begin()->first);
}

// Put validates in every build: a foreign span, a part of a chunk, or a chunk
// returned twice would give one chunk two owners, each DMAing over the other.
TEST(ChunkPool, PutRefusesWhatItDidNotHandOut) {
  absl::StatusOr<cmb::ChunkPool> pool = cmb::ChunkPool::Create(*cmb::AllocateHostMem(4 * 4096), 4096);
  ASSERT_TRUE(pool.ok());
  std::optional<cmb::DmaSpan> c = pool->Get();
  ASSERT_TRUE(c.has_value());
  absl::StatusOr<cmb::DmaBuffer> other = cmb::AllocateHostMem(4096);
  ASSERT_TRUE(other.ok());
  absl::Status s = pool->Put(other->span());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("not a chunk of this pool"), std::string::npos) << s;
  EXPECT_EQ(pool->Put(*c->Subspan(0, 512)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->available(), 3u);
  ASSERT_TRUE(pool->Put(*c).ok());
  s = pool->Put(*c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("already returned"), std::string::npos) << s;
  EXPECT_EQ(pool->available(), 4u);
}

// Over several buffers (one per CMB of a stripe): consecutive chunks come
// from different buffers, as long as each has one free.
std::vector<cmb::DmaBuffer> Buffers(std::initializer_list<size_t> pages) {
  std::vector<cmb::DmaBuffer> v;
  for (size_t n : pages) v.push_back(*cmb::AllocateHostMem(n * 4096));
  return v;
}

size_t BufferOf(const cmb::ChunkPool& pool, const cmb::DmaSpan& c) {
  for (size_t i = 0; i < pool.buffer_count(); ++i)
    if (c.data() >= pool.buffer(i).data() && c.data() < pool.buffer(i).data() + pool.buffer(i).size()) return i;
  ADD_FAILURE() << "chunk at " << static_cast<const void*>(c.data()) << " is in none of the pool's buffers";
  return SIZE_MAX;
}

TEST(ChunkPool, OverSeveralBuffersAlternatesBetweenThem) {
  absl::StatusOr<cmb::ChunkPool> pool = cmb::ChunkPool::Create(Buffers({3, 2}), 4096);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(pool->chunks(), 5u);
  EXPECT_EQ(pool->buffer_count(), 2u);
  std::vector<cmb::DmaSpan> got;
  std::vector<size_t> order;
  while (std::optional<cmb::DmaSpan> c = pool->Get()) {
    got.push_back(*c);
    order.push_back(BufferOf(*pool, *c));
  }
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 0, 1, 0})) << "the larger buffer's extra chunk comes last";
  std::set<const uint8_t*> distinct;
  for (const cmb::DmaSpan& c : got) distinct.insert(c.data());
  EXPECT_EQ(distinct.size(), 5u);
  EXPECT_EQ(pool->available(), 0u);
  // Returned out of order, each goes back to its own buffer; Get() still takes turns.
  ASSERT_TRUE(pool->Put(got[4]).ok());
  ASSERT_TRUE(pool->Put(got[0]).ok());
  ASSERT_TRUE(pool->Put(got[1]).ok());
  EXPECT_EQ(pool->available(), 3u);
  std::optional<cmb::DmaSpan> a = pool->Get(), b = pool->Get();
  ASSERT_TRUE(a && b);
  EXPECT_NE(BufferOf(*pool, *a), BufferOf(*pool, *b));
  EXPECT_EQ(a->data(), got[1].data()) << "buffer 1 is next in turn; its one free chunk is the one returned";
  EXPECT_EQ(b->data(), got[0].data()) << "then buffer 0, the chunk returned there last";
}

TEST(ChunkPool, OverSeveralBuffersPutRefusesForeignAndDoubleReturns) {
  absl::StatusOr<cmb::ChunkPool> pool = cmb::ChunkPool::Create(Buffers({2, 2}), 4096);
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::optional<cmb::DmaSpan> first = pool->Get(), second = pool->Get();
  ASSERT_TRUE(first && second);
  ASSERT_NE(BufferOf(*pool, *first), BufferOf(*pool, *second));
  absl::StatusOr<cmb::DmaBuffer> other = cmb::AllocateHostMem(4096);
  ASSERT_TRUE(other.ok());
  absl::Status s = pool->Put(other->span());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("not a chunk of this pool"), std::string::npos) << s;
  EXPECT_EQ(pool->Put(*second->Subspan(0, 512)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pool->available(), 2u);
  ASSERT_TRUE(pool->Put(*second).ok());
  s = pool->Put(*second);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("already returned"), std::string::npos) << s;
  // A chunk of the second buffer that was never handed out is no return either.
  const cmb::DmaBuffer& b1 = pool->buffer(BufferOf(*pool, *second));
  const uint8_t* unused = b1.data() == second->data() ? b1.data() + 4096 : b1.data();
  s = pool->Put(*b1.Slice(static_cast<size_t>(unused - b1.data()), 4096));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(pool->available(), 3u);
  ASSERT_TRUE(pool->Put(*first).ok());
  EXPECT_EQ(pool->available(), 4u);
}

TEST(ChunkPool, OverSeveralBuffersEachMustHoldAChunk) {
  absl::StatusOr<cmb::ChunkPool> pool = cmb::ChunkPool::Create(Buffers({2, 1}), 2 * 4096);
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(pool.status().message().find("buffer 1 of 2"), std::string::npos) << pool.status();
  EXPECT_EQ(cmb::ChunkPool::Create(std::vector<cmb::DmaBuffer>{}, 4096).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DmaSpan, SlicesStayInsideTheirBuffer) {
  absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateHostMem(3 * 4096);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->span().size(), 3u * 4096);
  absl::StatusOr<cmb::DmaSpan> mid = b->Slice(4096, 4096);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(mid->data(), b->data() + 4096);
  EXPECT_EQ(b->Slice(4096, 2 * 4096 + 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(b->Slice(3 * 4096 + 1, 0).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(mid->Subspan(1, 4096).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(b->Slice(SIZE_MAX, 2).status().code(), absl::StatusCode::kOutOfRange);  // no wrap-around
  EXPECT_TRUE(mid->Subspan(4096, 0).ok());
}

TEST(ChunkPool, RejectsBadChunkSizes) {
  EXPECT_FALSE(cmb::ChunkPool::Create(*cmb::AllocateHostMem(8192), 0).ok());
  EXPECT_FALSE(cmb::ChunkPool::Create(*cmb::AllocateHostMem(8192), 1000).ok());
  EXPECT_FALSE(cmb::ChunkPool::Create(*cmb::AllocateHostMem(8192), 3 * 4096).ok());
  EXPECT_FALSE(cmb::ChunkPool::Create(cmb::DmaBuffer(), 4096).ok());
}

}  // namespace
