// A host buffer whose pages are physically scattered: no page is followed by
// its physical successor, so the block layer cannot merge two of them into
// one segment, and a command over N pages needs N segments. That is the worst
// case Namespace::max_transfer_bytes promises to fit (queue/max_segments).
// Built by moving the pages of an anonymous mapping with mremap into
// descending PFN order (PFNs from /proc/self/pagemap, shown to root only).
//
//   absl::StatusOr<cmb::DmaBuffer> b = cmbtest::ScatteredHostPages(128);
//   ASSERT_TRUE(b.ok()) << b.status();   // then b->Slice(0, n * 4096)
//   cmbtest::CheckMaxTransferOverScatteredPages(ns);  // the test below
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "cmb/discovery.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_queue.h"

namespace cmbtest {

inline absl::StatusOr<uint64_t> PageFrame(int pagemap, const void* addr) {
  uint64_t entry = 0;
  off_t off = static_cast<off_t>(reinterpret_cast<uintptr_t>(addr) / ::sysconf(_SC_PAGESIZE) * 8);
  if (::pread(pagemap, &entry, 8, off) != 8) return absl::InternalError("pread /proc/self/pagemap failed");
  uint64_t pfn = entry & ((1ull << 55) - 1);
  if (!(entry >> 63) || pfn == 0) return absl::FailedPreconditionError("no PFN in /proc/self/pagemap (not root?)");
  return pfn;
}

inline absl::StatusOr<cmb::DmaBuffer> ScatteredHostPages(size_t pages) {
  const size_t pg = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  absl::StatusOr<cmb::DmaBuffer> buf = cmb::AllocateHostMem(pages * pg);
  if (!buf.ok()) return buf.status();
  uint8_t* base = buf->data();
  ::madvise(base, pages * pg, MADV_NOHUGEPAGE);  // khugepaged would make them contiguous again
  int pm = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pm < 0) return absl::InternalError("open /proc/self/pagemap failed");
  std::vector<uint64_t> pfn(pages);
  void* tmp = ::mmap(nullptr, pages * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  absl::Status st = tmp == MAP_FAILED ? absl::InternalError("mmap failed") : absl::OkStatus();
  for (size_t i = 0; st.ok() && i < pages; ++i) {
    base[i * pg] = 1;
    absl::StatusOr<uint64_t> f = PageFrame(pm, base + i * pg);
    if (!f.ok()) st = f.status();
    else pfn[i] = *f;
  }
  std::vector<size_t> order(pages);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pfn[a] > pfn[b]; });
  auto move = [&](void* from, void* to) {
    if (st.ok() && ::mremap(from, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED)
      st = absl::InternalError("mremap failed");
  };
  uint8_t* t = static_cast<uint8_t*>(tmp);
  for (size_t i = 0; i < pages; ++i) move(base + i * pg, t + i * pg);
  for (size_t k = 0; k < pages; ++k) move(t + order[k] * pg, base + k * pg);
  for (size_t k = 0; st.ok() && k + 1 < pages; ++k) {
    absl::StatusOr<uint64_t> a = PageFrame(pm, base + k * pg), b = PageFrame(pm, base + (k + 1) * pg);
    if (!a.ok() || !b.ok()) st = !a.ok() ? a.status() : b.status();
    else if (*b == *a + 1) st = absl::InternalError(absl::StrFormat("pages %u and %u are contiguous", k, k + 1));
  }
  if (tmp != MAP_FAILED) ::munmap(tmp, pages * pg);
  ::close(pm);
  if (!st.ok()) return st;
  return buf;
}

// max_transfer_bytes is what a command may carry in the worst case, pages
// that merge into no larger segment: such a command of exactly that size
// completes. Past queue/max_segments pages (6.1: 127, below 512 KiB) the
// kernel refuses it with EINVAL, which is why the limit counts segments.
inline void CheckMaxTransferOverScatteredPages(const cmb::Namespace& ns) {
  const size_t pg = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  ASSERT_GT(ns.max_segments, 0u);
  EXPECT_EQ(ns.max_transfer_bytes, std::min<uint64_t>(ns.max_hw_transfer_bytes, uint64_t{ns.max_segments} * pg));
  const size_t pages = ns.max_hw_transfer_bytes / pg;
  absl::StatusOr<cmb::DmaBuffer> buf = cmbtest::ScatteredHostPages(pages);
  ASSERT_TRUE(buf.ok()) << buf.status();
  absl::StatusOr<cmb::NvmeQueue> q = cmb::NvmeQueue::Open(ns, {.depth = 2});
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_TRUE(q->Read(0, *buf->Slice(0, ns.max_transfer_bytes), 1).ok());
  absl::StatusOr<cmb::Completion> c = q->Wait(std::chrono::milliseconds(30000));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->res, 0) << ns.max_transfer_bytes << " bytes in scattered pages: " << c->status;
  if (ns.max_segments >= pages) return;
  cmb::Namespace unchecked = ns;  // the library refuses this before the kernel: bypass it to see the kernel
  unchecked.max_transfer_bytes = 0;
  absl::StatusOr<cmb::NvmeQueue> raw = cmb::NvmeQueue::Open(unchecked, {.depth = 2});
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE(raw->Read(0, *buf->Slice(0, pages * pg), 2).ok());
  c = raw->Wait(std::chrono::milliseconds(30000));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->res, -EINVAL) << pages << " scattered pages over " << ns.max_segments << " segments";
}

}  // namespace cmbtest
