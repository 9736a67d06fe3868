#include "cmb/verify.h"
#include "cmb/page.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>
#include <vector>

#include "absl/strings/str_format.h"
#include "cmb/crc32c.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_queue.h"
#include "cmb/status_macros.h"

namespace cmb {
namespace {

constexpr unsigned kBatch = 8;  // chunks per side in flight

absl::Status WaitAll(NvmeQueue& q, unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    CMB_ASSIGN_OR_RETURN(Completion c, q.Wait(std::chrono::milliseconds(60000)));
    if (!c.status.ok()) return c.status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<VerifyResult> VerifyCopy(const CopyPlan& plan, const std::function<bool()>& stop) {
  auto t0 = std::chrono::steady_clock::now();
  const Namespace &s = plan.src.ns, &d = plan.dst.ns;
  uint64_t unit = std::lcm<uint64_t>(std::lcm<uint64_t>(s.lba_size, d.lba_size), PageBytes());
  uint64_t chunk = std::min<uint64_t>({s.max_transfer_bytes, d.max_transfer_bytes, 1 << 20}) / unit * unit;
  if (chunk == 0) chunk = unit;
  // Buffers before queues: destroyed after them, so an early return cannot
  // unmap memory that a command in flight still reads into.
  CMB_ASSIGN_OR_RETURN(DmaBuffer sb, AllocateHostMem(chunk * kBatch));
  CMB_ASSIGN_OR_RETURN(DmaBuffer db, AllocateHostMem(chunk * kBatch));
  CMB_ASSIGN_OR_RETURN(NvmeQueue qs, NvmeQueue::Open(s, {.depth = kBatch}, plan.src.address));
  CMB_ASSIGN_OR_RETURN(NvmeQueue qd, NvmeQueue::Open(d, {.depth = kBatch}, plan.dst.address));
  VerifyResult v;
  for (uint64_t off = 0; off < plan.bytes;) {
    if (stop && stop()) return absl::CancelledError(absl::StrFormat("verify stopped after %u bytes", off));
    unsigned k = 0;
    std::vector<uint64_t> lens;
    for (uint64_t o = off; k < kBatch && o < plan.bytes; ++k) {
      uint64_t len = std::min(chunk, plan.bytes - o);
      CMB_ASSIGN_OR_RETURN(DmaSpan sspan, sb.Slice(k * chunk, len));
      CMB_ASSIGN_OR_RETURN(DmaSpan dspan, db.Slice(k * chunk, len));
      CMB_RETURN_IF_ERROR(qs.Read(plan.src.lba + o / s.lba_size, sspan, k));
      CMB_RETURN_IF_ERROR(qd.Read(plan.dst.lba + o / d.lba_size, dspan, k));
      lens.push_back(len);
      o += len;
    }
    CMB_RETURN_IF_ERROR(qs.Submit().status());
    CMB_RETURN_IF_ERROR(qd.Submit().status());
    CMB_RETURN_IF_ERROR(WaitAll(qs, k));
    CMB_RETURN_IF_ERROR(WaitAll(qd, k));
    for (unsigned i = 0; i < k; ++i) {
      const uint8_t *a = sb.data() + i * chunk, *b = db.data() + i * chunk;
      v.src_crc32c = Crc32c(v.src_crc32c, a, lens[i]);
      v.dst_crc32c = Crc32c(v.dst_crc32c, b, lens[i]);
      if (std::memcmp(a, b, lens[i]) != 0) {
        for (uint64_t at = 0; at < lens[i]; at += d.lba_size)
          if (std::memcmp(a + at, b + at, d.lba_size) != 0) {
            ++v.mismatched_dst_lbas;
            if (!v.first_dst_lba) {
              uint64_t byte = at;
              while (a[byte] == b[byte]) ++byte;
              v.first_src_lba = plan.src.lba + (off + byte) / s.lba_size;
              v.first_dst_lba = plan.dst.lba + (off + byte) / d.lba_size;
            }
          }
      }
      off += lens[i];
      v.bytes += lens[i];
    }
  }
  v.match = v.mismatched_dst_lbas == 0;
  v.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return v;
}

}  // namespace cmb
