#include "cmb/copy_engine.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/chunk_pool.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_queue.h"
#include "block_claim.h"
#include "page_cache.h"

namespace cmb {
namespace {

using Clock = std::chrono::steady_clock;

struct EventFd {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ~EventFd() {
    if (fd >= 0) ::close(fd);
  }
  // Sleeps until a registered queue completes something or `ms` pass.
  void Wait(int ms) const {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, std::max(ms, 0));  // EINTR is fine: the caller re-checks everything
    uint64_t v;
    [[maybe_unused]] ssize_t n = ::read(fd, &v, sizeof v);
  }
};

// One chunk of the range: byte offset from the start of the plan's range.
struct Piece {
  uint64_t offset, bytes;
  uint64_t src_slba, dst_slba;
  uint32_t src_nlb, dst_nlb;
};

// The rate limit of CopyControl: when may the next command start, given the
// bytes started so far.
struct RateLimit {
  uint64_t rate = 0;  // bytes per second; 0: unlimited
  Clock::time_point t0;
  uint64_t started = 0;  // bytes of commands started
  Clock::time_point NextStart() const {
    if (rate == 0) return t0;
    return t0 + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(static_cast<double>(started) / static_cast<double>(rate)));
  }
  bool MayStart(Clock::time_point now) const { return NextStart() <= now; }
};

absl::Status Annotate(const absl::Status& s, const char* verb, const CopyEnd& e, uint64_t slba, uint32_t nlb) {
  return absl::Status(s.code(), absl::StrFormat("%s %s LBAs %u..%u: %s", verb, e.ns.name, slba, slba + nlb - 1,
                                                s.message()));
}

}  // namespace

CopyResult RunCopy(const SysRoot& root, const CopyPlan& plan, const CopyControl& control) {
  CopyResult r;
  const Clock::time_point t0 = Clock::now();
  auto finish = [&]() -> CopyResult {
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (control.progress) control.progress(CopyProgress{r.bytes_done, plan.bytes, r.seconds});
    return r;
  };
  const uint64_t unit = std::lcm<uint64_t>(plan.src.ns.lba_size, plan.dst.ns.lba_size);
  if (plan.chunk_bytes == 0 || plan.qd == 0 || plan.chunk_bytes % unit != 0) {
    r.status = absl::InvalidArgumentError("the plan has no valid chunk size or queue depth");
    return finish();
  }
  if (control.resume_bytes % unit != 0 || control.resume_bytes > plan.bytes) {
    r.status = absl::InvalidArgumentError(absl::StrFormat(
        "cannot resume at byte %u: not a multiple of %u bytes within the %u-byte range", control.resume_bytes, unit,
        plan.bytes));
    return finish();
  }
  r.bytes_done = control.resume_bytes;
  const uint64_t remaining = plan.bytes - control.resume_bytes;
  const uint64_t n = (remaining + plan.chunk_bytes - 1) / plan.chunk_bytes;
  const uint64_t dst_end = plan.dst.lba + plan.dst_lbas();
  auto piece = [&](uint64_t k) {
    Piece p;
    p.offset = control.resume_bytes + k * plan.chunk_bytes;
    p.bytes = std::min(plan.chunk_bytes, plan.bytes - p.offset);
    p.src_slba = plan.src.lba + p.offset / plan.src.ns.lba_size;
    p.dst_slba = plan.dst.lba + p.offset / plan.dst.ns.lba_size;
    p.src_nlb = static_cast<uint32_t>(p.bytes / plan.src.ns.lba_size);
    p.dst_nlb = static_cast<uint32_t>(p.bytes / plan.dst.ns.lba_size);
    return p;
  };
  const bool nvme_copy = plan.method == CopyMethod::kNvmeCopy;

  // Declared before the queues so it outlives them: a queue's destructor
  // reaps commands still doing DMA into the buffer.
  std::optional<ChunkPool> pool;
  std::optional<NvmeQueue> in, out;
  UniqueFd hold;  // dst's block device, O_EXCL, for the whole copy
  PageCache cache;
  EventFd ev;
  if (ev.fd < 0) {
    r.status = absl::ErrnoToStatus(errno, "eventfd");
    return finish();
  }
  auto setup = [&]() -> absl::Status {
    if (plan.hold_dst) {
      absl::StatusOr<UniqueFd> h = ClaimBlockDevice(plan.dst.ns);
      // Without read access to the block device the pre-copy checks (mounts,
      // swap, holders) are all the protection there is: say so, go on.
      if (h.ok()) {
        hold = std::move(*h);
        r.dst_held = true;
      } else if (absl::IsPermissionDenied(h.status())) {
        r.dst_not_held = std::string(h.status().message());
      } else {
        return h.status();
      }
    }
    cache = OpenPageCache(plan.dst.ns, hold);
    if (absl::Status s = SyncPageCache(cache); !s.ok()) return s;
    absl::StatusOr<NvmeQueue> o = NvmeQueue::Open(plan.dst.ns, {.depth = plan.qd, .writable = true}, plan.dst.address);
    if (!o.ok()) return o.status();
    out.emplace(std::move(*o));
    if (absl::Status s = out->NotifyEventFd(ev.fd); !s.ok()) return s;
    if (nvme_copy || n == 0) return absl::OkStatus();
    absl::StatusOr<NvmeQueue> i = NvmeQueue::Open(plan.src.ns, {.depth = plan.qd}, plan.src.address);
    if (!i.ok()) return i.status();
    in.emplace(std::move(*i));
    if (absl::Status s = in->NotifyEventFd(ev.fd); !s.ok()) return s;
    absl::StatusOr<DmaBuffer> buf = plan.method == CopyMethod::kP2p
                                        ? AllocateP2pMem(root, *plan.provider, plan.chunk_bytes * plan.qd)
                                        : AllocateHostMem(plan.chunk_bytes * plan.qd);
    if (!buf.ok()) return buf.status();
    absl::StatusOr<ChunkPool> p = ChunkPool::Create(std::move(*buf), plan.chunk_bytes);
    if (!p.ok()) return p.status();
    pool.emplace(std::move(*p));
    return absl::OkStatus();
  };
  if (absl::Status s = setup(); !s.ok()) {
    r.status = s;
    return finish();
  }

  std::vector<bool> done(n);
  std::unordered_map<uint64_t, DmaSpan> chunk_of;  // chunk index -> its buffer, while in flight
  uint64_t next = 0, prefix = 0;
  bool stopping = false;
  RateLimit limit{control.rate_bytes_per_s, t0};
  auto fail = [&](absl::Status s) {
    if (r.status.ok()) r.status = std::move(s);
    stopping = true;
  };
  auto release = [&](uint64_t k) {
    if (auto it = chunk_of.find(k); it != chunk_of.end()) {
      if (absl::Status s = pool->Put(it->second); !s.ok()) fail(s);
      chunk_of.erase(it);
    }
  };
  Clock::time_point next_tick = t0 + control.tick;

  for (;;) {
    if (!stopping && control.stop && control.stop()) stopping = r.stopped = true;
    while (!stopping && next < n && limit.MayStart(Clock::now())) {
      Piece p = piece(next);
      absl::Status s;
      if (nvme_copy) {
        if (out->in_flight() + out->queued() >= plan.qd) break;
        s = out->Copy(p.src_slba, p.src_nlb, p.dst_slba, next);
      } else {
        std::optional<DmaSpan> b = pool->Get();
        if (!b) break;
        chunk_of[next] = *b;
        absl::StatusOr<DmaSpan> part = b->Subspan(0, p.bytes);  // the last piece may be short
        s = part.ok() ? in->Read(p.src_slba, *part, next) : part.status();
        if (!s.ok()) release(next);
      }
      if (!s.ok()) {
        fail(s);
        break;
      }
      limit.started += p.bytes;
      ++next;
    }
    for (NvmeQueue* q : {in ? &*in : nullptr, &*out}) {
      if (q == nullptr) continue;
      if (absl::StatusOr<unsigned> s = q->Submit(); !s.ok()) fail(s.status());
    }
    unsigned busy = out->in_flight() + (in ? in->in_flight() : 0);
    bool waiting_for_rate = !stopping && next < n && !limit.MayStart(Clock::now());
    if (busy == 0 && !waiting_for_rate) break;  // nothing in flight and nothing more to submit
    Clock::time_point wake = waiting_for_rate ? std::min(next_tick, limit.NextStart()) : next_tick;
    // Rounded up, so a rate-limited wait does not spin on a 0 ms timeout.
    ev.Wait(static_cast<int>(
        std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count()));

    if (in) {
      for (Completion& c : in->Poll()) {
        Piece p = piece(c.tag);
        if (!c.status.ok()) {
          fail(Annotate(c.status, "reading", plan.src, p.src_slba, p.src_nlb));
          release(c.tag);
          continue;
        }
        ++r.commands;
        if (stopping) {  // stop submitting: the chunk read is dropped
          release(c.tag);
          continue;
        }
        // The promise: never write outside the requested range.
        if (p.dst_slba < plan.dst.lba || p.dst_slba + p.dst_nlb > dst_end) {
          fail(absl::InternalError("copy engine computed a write outside the destination range; stopped"));
          release(c.tag);
          continue;
        }
        absl::StatusOr<DmaSpan> part = chunk_of.at(c.tag).Subspan(0, p.bytes);
        if (absl::Status s = part.ok() ? out->Write(p.dst_slba, *part, c.tag) : part.status(); !s.ok()) {
          fail(s);
          release(c.tag);
        }
      }
    }
    for (Completion& c : out->Poll()) {
      Piece p = piece(c.tag);
      if (!nvme_copy) release(c.tag);
      if (!c.status.ok()) {
        fail(Annotate(c.status, nvme_copy ? "copying to" : "writing", plan.dst, p.dst_slba, p.dst_nlb));
        continue;
      }
      ++r.commands;
      r.bytes_moved += p.bytes;
      done[c.tag] = true;
      while (prefix < n && done[prefix]) ++prefix;
    }
    r.bytes_done = std::min(plan.bytes, control.resume_bytes + prefix * plan.chunk_bytes);
    if (Clock::now() >= next_tick) {
      next_tick = Clock::now() + control.tick;
      if (control.progress)
        control.progress(CopyProgress{r.bytes_done, plan.bytes,
                                      std::chrono::duration<double>(Clock::now() - t0).count()});
    }
  }

  // Make what was written durable, also after a stop or a failure, so the
  // reported prefix can be trusted by --resume.
  if (r.bytes_moved > 0 || n == 0) {
    absl::Status s = out->Flush(UINT64_MAX);
    absl::StatusOr<Completion> c = s.ok() ? out->Wait(std::chrono::milliseconds(60000))
                                          : absl::StatusOr<Completion>(s);
    absl::Status fs = !c.ok() ? c.status() : c->status;
    if (!fs.ok()) {
      r.flushed = false;
      std::string what = absl::StrCat("flushing ", plan.dst.ns.name, ": ", fs.message());
      r.status = r.status.ok() ? absl::Status(fs.code(), what)
                               : absl::Status(r.status.code(), absl::StrCat(r.status.message(), "; then ", what));
    }
    // What readers of the block device cached of the range is now stale.
    if (absl::Status d = DropPageCache(cache); !d.ok()) r.page_cache_not_dropped = std::string(d.message());
  }
  return finish();
}

}  // namespace cmb
