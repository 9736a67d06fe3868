// Copier: a long-lived asynchronous copy engine for one plan (copy_plan.h):
// one source, one or more destinations (fan-out), a buffer in each CMB it
// stripes over (one without striping) or in host memory. It
// keeps its rings, its buffer and the destinations' exclusive holds across
// requests, so an application submits extent lists as compaction, migration
// or snapshot shipping produce them, and gets one completion per request.
//
//   absl::StatusOr<cmb::Copier> c = cmb::Copier::Open(root, sys, "nvme1:1", {"nvme2:1"});  // or (root, *plan)
//   absl::StatusOr<uint64_t> id = c->Submit({{.src_lba = 0, .dst_lba = 4096, .count = 2048},
//                                            {.src_lba = 9000, .dst_lba = 100, .count = 8}});
//   absl::StatusOr<cmb::CopyCompletion> done = c->Wait(*id);   // or: poll c->poll_fd(), c->Process()
//   // done->status; done->dsts[i].prefix_bytes: the exact prefix on destination i
//
// A request's bytes are its extents' source bytes in the order given; a
// destination's prefix is how many of them, from the first, it holds
// (written and flushed). Read once into the buffer, each chunk is written to
// every destination and reused only when all of them are done with it. A
// failing destination is dropped with its own status and prefix (later
// requests skip it); the others go on unless stop_on_dst_failure.
//
// Extents are checked at Submit: whole LBAs of both ends (InvalidArgument),
// inside both namespaces (OutOfRange), not overlapping each other on the
// destination, nor the source range when source and destination are one
// namespace (FailedPrecondition, as PlanCopy's overlap). Writes never leave a request's destination extents.
//
// Driving it: Submit() and Cancel() only queue; Process() starts commands,
// reaps completions and returns the requests that finished. Call it whenever
// poll_fd() is readable (Submit and Cancel make it so), or use Wait, which
// does both. Thread safety: none; one thread drives a copier (other threads
// may only poll event_fd and call Notify), or use CopierThread
// (copier_thread.h). A fan-out's destinations share one LBA size. Lifetime: destroying a copier cancels what is left and
// waits for commands in flight, since they DMA into its buffer; its holds on
// the destinations end then.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cmb/copy_plan.h"
#include "cmb/extent_list.h"
#include "cmb/sysroot.h"

namespace cmb {

struct CopierOptions {
  // Bytes per second at most (0: none), like pv -L: a command starts only
  // once the bytes started before it fit in rate x elapsed time.
  uint64_t rate_bytes_per_s = 0;
  // A failing destination stops the whole request (and the copier's later
  // requests fail at once) instead of being dropped while the others go on.
  bool stop_on_dst_failure = false;
  // Every queue's ring with IORING_SETUP_SQPOLL (fio's --sqthread_poll): a
  // kernel thread of this process submits, so issuing makes no system call.
  bool sqpoll = false;
  // Polled completions (IORING_SETUP_IOPOLL, fio's --hipri) on the
  // namespaces' poll queues; Open fails, saying how to add them, when a
  // namespace has none. The copier then spins: poll_fd() stays readable
  // while commands are in flight, so a poll(2) loop busy-polls with it.
  bool poll_completions = false;
};

struct DstCompletion {
  std::string name;             // "nvme2n1"
  absl::Status status;          // this destination's first failure (sticky across requests)
  uint64_t prefix_bytes = 0;    // bytes from the request's start it holds, contiguous
  uint64_t bytes_written = 0;   // all bytes of the request it wrote, also beyond the prefix
  bool flushed = true;          // false when it was written and its Flush failed
  std::string page_cache_not_dropped;  // page_cache.h: empty when readers see the copy
};

struct CopyCompletion {
  uint64_t id = 0;
  absl::Status status;          // OK only when every destination holds every byte
  bool cancelled = false;       // Cancel() took effect before the end
  uint64_t bytes_total = 0;     // the request's bytes
  uint64_t commands = 0;        // NVMe commands completed for it
  std::vector<DstCompletion> dsts;  // in the plan's order: dst, then fanout
  uint64_t prefix_bytes() const;    // the smallest destination prefix
};

struct CopierStats {
  bool dst_held = false;             // every destination held with O_EXCL
  std::vector<std::string> not_held;  // why a destination was not held (no read permission)
};

class Copier {
 public:
  // Opens the queues, allocates plan.qd chunks of plan.chunk_bytes, and holds
  // every destination (plan.hold_dst). Every method; nvme-copy has one
  // destination and uses no buffer.
  static absl::StatusOr<Copier> Open(const SysRoot& root, const CopyPlan& plan, const CopierOptions& options = {});
  // Plans (PlanFanOut) and opens in one call. `src` and each of `dsts` name a
  // namespace as ResolveNamespace reads it ("nvme1:1", "/dev/ng1n1",
  // "0000:04:00.0:1"). `tuning` gives the planner's choices (via,
  // allow_bounce, force, chunk_bytes, qd, method) and the range the plan is
  // sized for (count or bytes; neither: the most every end holds from LBA 0).
  // It writes nothing but the requests' extents: an own-CMB proof only reads
  // (prove_with_writes is ignored).
  static absl::StatusOr<Copier> Open(const SysRoot& root, const System& sys, absl::string_view src,
                                     const std::vector<std::string>& dsts, CopyRequest tuning = {},
                                     const CopierOptions& options = {});
  Copier(Copier&&) noexcept;
  Copier& operator=(Copier&&) noexcept;
  ~Copier();

  // Queues a request (empty extents: a request that only flushes); its id.
  absl::StatusOr<uint64_t> Submit(std::vector<Extent> extents);
  // Starts no more of the request's commands; it completes, cancelled, once
  // those in flight are done. NotFound for an id not pending.
  absl::Status Cancel(uint64_t id);
  void CancelAll();  // every pending request
  // Never blocks. The requests that finished since the last call.
  std::vector<CopyCompletion> Process();
  // Drives Process() until request `id` finishes (others finishing meanwhile
  // are kept for later Process calls). DeadlineExceeded after `timeout`.
  absl::StatusOr<CopyCompletion> Wait(uint64_t id, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Sleeps until a completion may be waiting, or `timeout`, or a rate-limited
  // command may start. Then call Process().
  void WaitForEvent(std::chrono::milliseconds timeout);
  // Bytes of request `id`'s contiguous prefix on its slowest live destination.
  uint64_t Progress(uint64_t id) const;

  // Finishes every pending request, then releases the queues, the buffer
  // and the holds. Later Submit calls fail (FailedPrecondition); completions
  // not yet taken stay for Process().
  void Close();

  // An epoll fd, readable when Process() has something to do: a completion,
  // a request submitted or cancelled, or the rate limit's next start. Poll
  // it for POLLIN; never read it. Owned by the copier.
  int poll_fd() const;
  [[deprecated("use poll_fd(): it is an epoll fd, not an eventfd")]] int event_fd() const { return poll_fd(); }
  // Makes poll_fd() readable; the one call that is safe from any thread.
  void Notify() const;
  // A request is pending from Submit until Process or Wait returns its
  // completion: running, or finished and not yet taken.
  size_t pending() const;  // how many are
  bool Pending(uint64_t id) const;  // whether request `id` is
  const CopyPlan& plan() const;
  const CopierOptions& options() const;  // as opened; they do not change
  const CopierStats& stats() const;

 private:
  struct Impl;
  explicit Copier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cmb
