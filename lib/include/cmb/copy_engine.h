// Copy engine: runs Copier requests (copier.h) to their end for callers that
// want a blocking call: one drive loop (stop, progress, the Copier's events)
// and one resume rule for every client. RunCopy copies a plan's range (from
// an offset an earlier run left durable), RunExtents an extent list, each as
// one request of a Copier opened for the call; DriveRequest drives a request
// of a Copier the caller holds. For p2p and bounce, one buffer (CMB p2pmem or
// host memory) is carved into plan.qd chunks; reads of later chunks run while
// earlier chunks are written, each chunk going from the source's read
// straight to the destination's write without the CPU touching the data.
// nvme-copy keeps plan.qd Copy commands in flight. A Flush of the
// destination ends every run, complete or not.
//
//   cmb::CopyControl ctl{.stop = [] { return g_interrupted.load(); }};
//   cmb::CopyResult r = cmb::RunCopy(root, *plan, ctl);
//   // r.bytes_done: the destination's first r.bytes_done bytes are written,
//   // and flushed unless !r.flushed; a later run continues with
//   // ctl.resume_bytes = r.durable_bytes().
//
// Writes never leave [dst.lba, dst.lba + dst_lbas()) for RunCopy, nor the
// list's destination extents for RunExtents: every extent is checked against
// the namespaces before it is queued. With plan.hold_dst the destination's
// block device is held with O_EXCL from before the first command to the end
// (block_claim.h): a claimant refuses the copy, and nothing can mount or
// assemble the device while it is written.
//
// Threads: RunCopy and RunExtents block the calling thread; concurrent calls
// on different destinations are independent. DriveRequest drives the
// caller's Copier on the calling thread (a Copier has one driving thread).
// Lifetime: nothing outlives the call.
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
  uint64_t bytes_done = 0;   // contiguous prefix of the range (or list) now on the destination
  double seconds = 0;        // wall time of this run
  uint64_t bytes_moved = 0;  // bytes this run wrote (bytes_done - resume, plus any beyond the prefix)
  uint64_t commands = 0;     // NVMe commands completed
  uint64_t resumed_from = 0;  // control.resume_bytes: where this run started
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
  // first failure; a failed destination does not stop the others. Empty when
  // the request never ran (refused before: Copier::Open, Submit or the resume
  // rule; status says why, and nothing was written).
  std::vector<DstCompletion> dsts;
  bool complete() const { return status.ok() && !stopped; }
  // Destination i's contiguous prefix of the range, resumed_from included
  // (dsts[i].prefix_bytes counts from resumed_from).
  uint64_t done_bytes(size_t i) const { return resumed_from + (i < dsts.size() ? dsts[i].prefix_bytes : 0); }
  // The resume rule's other half: the bytes of the range known durable on
  // destination i, so the offset a later run may resume it from. Its prefix
  // when its Flush succeeded; else only what an earlier run flushed
  // (resumed_from): what this run wrote without a flush is not known durable.
  uint64_t durable_bytes(size_t i = 0) const {
    return i < dsts.size() && dsts[i].flushed ? done_bytes(i) : resumed_from;
  }
};

// The resume rule: a copy of `plan` may continue at byte `offset` (of its
// range; CopyControl::resume_bytes) only within plan.bytes and at whole LBAs
// of every end, a multiple of plan.lba_unit(). An offset an earlier run
// reported as durable (CopyResult::durable_bytes) always passes. Empty when
// it may; else why not, as words that follow the caller's own name for the
// offset: "beyond the 4096-byte range", "not a multiple of 512 bytes (both
// LBA sizes)".
std::string WhyNotResumable(const CopyPlan& plan, uint64_t offset);
// The same as a status: OK, or InvalidArgument("cannot resume at byte N: it is ...").
absl::Status CheckResumeOffset(const CopyPlan& plan, uint64_t offset);

// The plan's range from control.resume_bytes (checked by the resume rule) as
// one request; bytes_done and progress count from the range's start.
CopyResult RunCopy(const SysRoot& root, const CopyPlan& plan, const CopyControl& control = {});

// `extents` as one request (a plan sized for them: CopyRequest::extents);
// bytes_done and progress count the list's bytes in its order, and
// progress's bytes_total is their sum. control.resume_bytes must be 0
// (InvalidArgument): a list goes on by submitting the extents not yet done.
CopyResult RunExtents(const SysRoot& root, const CopyPlan& plan, std::vector<Extent> extents,
                      const CopyControl& control = {});

// The one drive loop (RunCopy's and RunExtents'): runs request `id` of
// `copier` until it finishes, and returns its completion. control.stop is
// polled between completions (at least every tick) and cancels the request
// once (what is in flight drains); control.progress gets {resume_bytes + the
// request's prefix, bytes_total, seconds since the call} every tick.
// control.copier is not used (the copier is open). Completions of the
// copier's other requests that finish meanwhile go to *others (dropped when
// null). An id the copier does not have completes at once, NotFound.
CopyCompletion DriveRequest(Copier& copier, uint64_t id, uint64_t bytes_total, const CopyControl& control = {},
                            std::vector<CopyCompletion>* others = nullptr);

}  // namespace cmb
