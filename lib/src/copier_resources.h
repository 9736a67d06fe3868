// CopierResources: what a copier holds while it lives, opened from its plan
// in this order and let go in the reverse: each destination's O_EXCL hold
// and page cache, then its queue; the source's queue; the buffers (one per
// CMB it stripes over, or host memory) carved into the chunk pool. The pool
// is declared first so it goes last: a queue's destructor reaps commands
// still doing DMA into its chunks.
//
//   CMB_ASSIGN_OR_RETURN(std::unique_ptr<CopierResources> res, OpenCopierResources(root, plan, opts, ev.ev));
//   // res->src (null for nvme-copy), res->dsts[i].q, res->pool
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/chunk_pool.h"
#include "cmb/copier.h"
#include "cmb/copy_plan.h"
#include "cmb/sysroot.h"
#include "cmb/unique_fd.h"
#include "command_queue.h"
#include "page_cache.h"

#pragma GCC visibility push(hidden)
namespace cmb::internal {

struct DstResources {
  CopyEnd end;
  UniqueFd hold;  // O_EXCL on the block device (plan.hold_dst), when it could be opened
  PageCache cache;
  std::unique_ptr<CommandQueue> q;  // depth qd + 1: room for a Flush beside qd writes; by end.path
};

struct CopierResources {
  std::optional<ChunkPool> pool;  // first: destroyed after every queue
  std::unique_ptr<CommandQueue> src;
  std::vector<DstResources> dsts;
  std::vector<std::string> not_held;  // why a destination was not held (no read permission)
};

// Every queue signals `eventfd` on completions.
absl::StatusOr<std::unique_ptr<CopierResources>> OpenCopierResources(const SysRoot& root, const CopyPlan& plan,
                                                                     const CopierOptions& opts, int eventfd);

}  // namespace cmb::internal
#pragma GCC visibility pop
