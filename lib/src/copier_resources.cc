#include "copier_resources.h"

#include <algorithm>
#include <utility>

#include "block_claim.h"
#include "block_queue.h"
#include "cmb/dma_buffer.h"
#include "cmb/status_macros.h"

namespace cmb::internal {
namespace {

QueueOptions QueueOf(const CopierOptions& opts, unsigned depth, bool writable) {
  return {.depth = depth, .writable = writable, .sqpoll = opts.sqpoll, .iopoll = opts.poll_completions};
}

// The end's queue on its data path (CopyEnd::path). Failures are explained
// with the device doing the DMA (an RDMA end's NIC), when the plan knows it.
absl::StatusOr<std::unique_ptr<CommandQueue>> OpenQueue(const CopyEnd& end, const QueueOptions& qo, int eventfd) {
  const std::optional<PciAddress> client = end.dma_client ? end.dma_client : end.address;
  if (end.path == DataPath::kBlock) {
    CMB_ASSIGN_OR_RETURN(std::unique_ptr<BlockQueue> q, BlockQueue::Open(end.ns, qo, client));
    CMB_RETURN_IF_ERROR(q->NotifyEventFd(eventfd));
    return q;
  }
  CMB_ASSIGN_OR_RETURN(NvmeQueue q, NvmeQueue::Open(end.ns, qo, client));
  CMB_RETURN_IF_ERROR(q.NotifyEventFd(eventfd));
  return std::make_unique<NvmeCommandQueue>(std::move(q));
}

absl::Status OpenDst(CopierResources& res, const CopyPlan& plan, const CopierOptions& opts, const CopyEnd& end,
                     int eventfd) {
  DstResources& d = res.dsts.emplace_back();
  d.end = end;
  if (plan.hold_dst) {
    absl::StatusOr<UniqueFd> h = ClaimBlockDevice(end.ns);
    // Without read access to the block device the planner's checks (mounts,
    // swap, holders) are all the protection there is: say so, go on.
    if (h.ok()) d.hold = std::move(*h);
    else if (absl::IsPermissionDenied(h.status())) res.not_held.push_back(std::string(h.status().message()));
    else return h.status();
  }
  d.cache = OpenPageCache(end.ns, d.hold);
  CMB_RETURN_IF_ERROR(SyncPageCache(d.cache));
  CMB_ASSIGN_OR_RETURN(d.q, OpenQueue(end, QueueOf(opts, plan.qd + 1, true), eventfd));
  return absl::OkStatus();
}

// One buffer per CMB (plan.cmbs()), each with its StripeShare of the qd
// chunks, at least one; the pool hands them out in turn.
absl::StatusOr<ChunkPool> OpenPool(const SysRoot& root, const CopyPlan& plan) {
  const bool p2p = plan.method == CopyMethod::kP2p;
  const std::vector<PciAddress> cmbs = plan.cmbs();
  const size_t nbuf = p2p ? std::min<size_t>(cmbs.size(), plan.qd) : 1;
  std::vector<DmaBuffer> bufs;
  for (size_t i = 0; i < nbuf; ++i) {
    const uint64_t bytes = plan.chunk_bytes * StripeShare(plan.qd, nbuf, i);
    absl::StatusOr<DmaBuffer> buf = p2p ? AllocateP2pMem(root, cmbs[i], bytes) : AllocateHostMem(bytes);
    if (!buf.ok()) return buf.status();
    bufs.push_back(std::move(*buf));
  }
  return ChunkPool::Create(std::move(bufs), plan.chunk_bytes);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CopierResources>> OpenCopierResources(const SysRoot& root, const CopyPlan& plan,
                                                                     const CopierOptions& opts, int eventfd) {
  auto res = std::make_unique<CopierResources>();
  for (const CopyEnd* e : plan.destinations()) CMB_RETURN_IF_ERROR(OpenDst(*res, plan, opts, *e, eventfd));
  if (plan.method == CopyMethod::kNvmeCopy) return res;
  CMB_ASSIGN_OR_RETURN(res->src, OpenQueue(plan.src, QueueOf(opts, plan.qd, false), eventfd));
  CMB_ASSIGN_OR_RETURN(ChunkPool pool, OpenPool(root, plan));
  res->pool.emplace(std::move(pool));
  return res;
}

}  // namespace cmb::internal
