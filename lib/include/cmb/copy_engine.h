// Copy engine: executes a CopyPlan (copy_plan.h) as one request of a Copier
// (copier.h), for callers that want a blocking call. For p2p and bounce, one
// buffer (CMB p2pmem or host memory) is carved into plan.qd chunks; reads of
// later chunks run while earlier chunks are written, each chunk going from
// the source's read straight to the destination's write without the CPU
// touching the data. nvme-copy keeps plan.qd Copy commands in flight. A
// Flush of the destination ends every run, complete or not.
//
//   cmb::CopyControl ctl{.stop = [] { return g_interrupted.load(); }};
//   cmb::CopyResult r = cmb::RunCopy(root, *plan, ctl);
//   // r.bytes_done: the destination's first r.bytes_done bytes are written,
//   // and flushed unless !r.flushed; resume with ctl.resume_bytes.
//
// Writes never leave [dst.lba, dst.lba + dst_lbas()): every command's range
// is checked against the plan before it is queued. With plan.hold_dst the
// destination's block device is held with O_EXCL from before the first
// command to the end (block_claim.h): a claimant refuses the copy, and nothing
// can mount or assemble the device while it is written.
//
// Threads: RunCopy blocks the calling thread; concurrent RunCopy calls on different
// destinations are independent. Lifetime: nothing outlives the call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cmb/copier.h"
#include "cmb/copy_plan.h"
#include "cmb/sysroot.h"

namespace cmb {

struct CopyProgress {
  uint64_t bytes_done = 0;   // contiguous prefix written, including resume_bytes
  uint64_t bytes_total = 0;  // plan.bytes
  double seconds = 0;        // since this run started
};

struct CopyControl {
  // Polled between completions (at least every `tick`): true stops
  // submitting; what is in flight drains.
  std::function<bool()> stop;
  std::function<void(const CopyProgress&)> progress;  // every `tick`, and once at the end
  std::chrono::milliseconds tick{1000};
  uint64_t resume_bytes = 0;  // bytes already copied by an earlier run (a multiple of both LBA sizes)
  // The engine's options (copier.h): the rate limit, stop_on_dst_failure,
  // and the polling modes.
  CopierOptions copier;
};

struct CopyResult {
  absl::Status status;       // the first failure; OK when complete or stopped cleanly
  bool stopped = false;      // control.stop asked to stop before the end
  uint64_t bytes_done = 0;   // contiguous prefix of the range now on the destination
  double seconds = 0;        // wall time of this run
  uint64_t bytes_moved = 0;  // bytes this run wrote (bytes_done - resume, plus any beyond the prefix)
  uint64_t commands = 0;     // NVMe commands completed
  // False when this run wrote and the final Flush of dst failed: only the
  // resume_bytes an earlier run flushed are known durable. True when the
  // flush succeeded or this run wrote nothing.
  bool flushed = true;
  bool dst_held = false;  // dst's block device was held with O_EXCL (plan.hold_dst)
  // Why it was not held although the plan asked for it (no read permission
  // on the block device); empty when held or not asked.
  std::string dst_not_held;
  // Passthrough writes bypass dst's page cache: RunCopy writes back its dirty
  // pages before and drops the range after, so readers of the block device
  // see what the device holds. Empty when done; else why not (no read access
  // to the block device): such readers may see old data until the cache goes
  // (echo 1 > /proc/sys/vm/drop_caches, or reads with O_DIRECT).
  std::string page_cache_not_dropped;
  // Each destination's own outcome (copier.h), in the plan's order: dst, then
  // fanout. With fan-out, bytes_done is the smallest prefix and status the
  // first failure; a failed destination does not stop the others.
  std::vector<DstCompletion> dsts;
  bool complete() const { return status.ok() && !stopped; }
};

CopyResult RunCopy(const SysRoot& root, const CopyPlan& plan, const CopyControl& control = {});

}  // namespace cmb
