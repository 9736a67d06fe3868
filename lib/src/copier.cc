#include "cmb/copier.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "block_claim.h"
#include "cmb/chunk_pool.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_queue.h"
#include "event_fd.h"
#include "page_cache.h"
#include "cmb/status_macros.h"

namespace cmb {

using internal::ClaimBlockDevice;
using internal::DropPageCache;
using internal::EventFd;
using internal::OpenPageCache;
using internal::PageCache;
using internal::SyncPageCache;
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kFlushTag = 1ull << 63;  // | request id; data commands count up from 1

struct DstState {
  CopyEnd end;
  UniqueFd hold;  // O_EXCL on the block device while the copier lives
  PageCache cache;
  std::optional<NvmeQueue> q;
  absl::Status failed;  // sticky: a failed destination is written no more
  bool flushing = false;  // one Flush at a time, so writes and it fit the queue (depth qd + 1)
};

// A request's progress on one destination: its prefix, and the pieces done
// beyond it (offset -> bytes), which join the prefix when the gap fills.
struct DstProgress {
  uint64_t prefix = 0, written = 0;
  std::map<uint64_t, uint64_t> ahead;
  absl::Status status, flush_status;
  bool need_flush = false, flushing = false, flushed = true;
  std::string page_cache_not_dropped;
  void Done(uint64_t offset, uint64_t bytes) {
    written += bytes;
    ahead[offset] = bytes;
    for (auto it = ahead.begin(); it != ahead.end() && it->first == prefix; it = ahead.erase(it)) prefix += it->second;
  }
};

struct Request {
  uint64_t id = 0;
  std::vector<Extent> extents;
  uint64_t total = 0;
  size_t ext = 0;            // the next piece: its extent,
  uint64_t ext_off = 0;      // its byte offset in that extent,
  uint64_t next_offset = 0;  // and in the request
  bool cancelled = false;
  absl::Status status;  // the read side's failure, or a destination's with stop_on_dst_failure
  unsigned in_flight = 0;
  bool flush_started = false;
  uint64_t commands = 0;
  std::vector<DstProgress> dsts;
  bool issuing_done() const { return ext >= extents.size() || cancelled || !status.ok(); }
};

// One chunk on its way: read into `chunk`, then written to each live destination.
struct Flight {
  uint64_t req = 0, offset = 0, bytes = 0, src_slba = 0, dst_slba = 0;
  size_t ext = 0;  // the request's extent it belongs to
  std::optional<DmaSpan> chunk;
  unsigned writes_left = 0;
};

absl::Status Annotate(const absl::Status& s, const char* verb, const CopyEnd& e, uint64_t slba, uint64_t nlb) {
  return absl::Status(s.code(), absl::StrFormat("%s %s LBAs %u..%u: %s", verb, e.ns.name, slba, slba + nlb - 1,
                                                s.message()));
}

}  // namespace

uint64_t CopyCompletion::prefix_bytes() const {
  uint64_t p = bytes_total;
  for (const DstCompletion& d : dsts) p = std::min(p, d.prefix_bytes);
  return p;
}

// Hidden: the engine is private to libcmb, whatever the version script exports.
struct __attribute__((visibility("hidden"))) Copier::Impl {
  SysRoot root;
  CopyPlan plan;
  CopierOptions opts;
  CopierStats stats;
  uint64_t unit = 0;
  bool nvme_copy = false, closed = false;
  // Declared before the queues, so it outlives them: a queue's destructor
  // reaps commands still doing DMA into the buffer.
  std::optional<ChunkPool> pool;
  std::optional<NvmeQueue> in;
  std::vector<DstState> dsts;
  EventFd ev;
  std::map<uint64_t, Request> requests;  // by id, so in submission order
  std::unordered_map<uint64_t, Flight> flights;
  std::vector<CopyCompletion> finished;
  uint64_t next_id = 1, next_tag = 1;
  Clock::time_point t0 = Clock::now();
  uint64_t started_bytes = 0;
  absl::Status broken;  // a queue could not submit: no request can finish normally

  absl::Status Setup();
  QueueOptions QueueOf(unsigned depth, bool writable) const {
    return {.depth = depth, .writable = writable, .sqpoll = opts.sqpoll, .iopoll = opts.poll_completions};
  }
  absl::Status OpenDst(const CopyEnd& end);
  absl::Status CheckExtents(const std::vector<Extent>& extents, uint64_t* total) const;
  void Step();
  void Reap();
  void OnRead(const Completion& c);
  void OnWrite(size_t d, const Completion& c);
  void OnFlush(size_t d, const Completion& c);
  void DstFail(size_t d, Request& r, absl::Status s);
  void Drop(uint64_t tag);
  void Issue();
  bool IssueOne(Request& r);
  void SubmitAll();
  void Finish();
  bool StartFlushes(Request& r);
  CopyCompletion Complete(Request& r);
  Clock::time_point NextStart() const;
};

absl::Status Copier::Impl::OpenDst(const CopyEnd& end) {
  DstState& d = dsts.emplace_back();
  d.end = end;
  if (plan.hold_dst) {
    absl::StatusOr<UniqueFd> h = ClaimBlockDevice(end.ns);
    // Without read access to the block device the planner's checks (mounts,
    // swap, holders) are all the protection there is: say so, go on.
    if (h.ok()) d.hold = std::move(*h);
    else if (absl::IsPermissionDenied(h.status())) stats.not_held.push_back(std::string(h.status().message()));
    else return h.status();
  }
  d.cache = OpenPageCache(end.ns, d.hold);
  CMB_RETURN_IF_ERROR(SyncPageCache(d.cache));
  // Room for a Flush beside plan.qd writes.
  CMB_ASSIGN_OR_RETURN(NvmeQueue q, NvmeQueue::Open(end.ns, QueueOf(plan.qd + 1, true), end.address));
  d.q.emplace(std::move(q));
  return d.q->NotifyEventFd(ev.ev);
}

absl::Status Copier::Impl::Setup() {
  if (plan.read_only)
    return absl::InvalidArgumentError("the plan was made `read_only`: its destinations' use was not checked");
  nvme_copy = plan.method == CopyMethod::kNvmeCopy;
  unit = plan.lba_unit();
  if (plan.chunk_bytes == 0 || plan.qd == 0 || unit == 0 || plan.chunk_bytes % unit != 0)
    return absl::InvalidArgumentError("the plan has no valid chunk size or queue depth");
  if (nvme_copy && !plan.fanout.empty())
    return absl::InvalidArgumentError("nvme-copy has one destination: the source's own namespace");
  if (!ev.ok) return absl::ErrnoToStatus(errno, "eventfd, timerfd or epoll");
  for (const CopyEnd* e : plan.destinations())
    if (e->ns.lba_size != plan.dst.ns.lba_size)
      return absl::InvalidArgumentError("a fan-out's destinations must share one LBA size");
  for (const CopyEnd* e : plan.destinations()) CMB_RETURN_IF_ERROR(OpenDst(*e));
  stats.dst_held = plan.hold_dst && stats.not_held.empty();
  if (nvme_copy) return absl::OkStatus();
  CMB_ASSIGN_OR_RETURN(NvmeQueue q, NvmeQueue::Open(plan.src.ns, QueueOf(plan.qd, false), plan.src.address));
  in.emplace(std::move(q));
  CMB_RETURN_IF_ERROR(in->NotifyEventFd(ev.ev));
  // One buffer per CMB (plan.cmbs()), each with its StripeShare of the qd
  // chunks, at least one; the pool hands them out in turn.
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
  CMB_ASSIGN_OR_RETURN(ChunkPool p, ChunkPool::Create(std::move(bufs), plan.chunk_bytes));
  pool.emplace(std::move(p));
  return absl::OkStatus();
}

// Half-open LBA intervals [first, end) with the extent each came from.
using Spans = std::vector<std::tuple<uint64_t, uint64_t, size_t>>;

static absl::Status Overlaps(Spans a, Spans b, const char* what) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const bool self = b.empty();
  if (self) b = a;
  size_t j = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (self) {
      if (i + 1 < a.size() && std::get<0>(a[i + 1]) < std::get<1>(a[i]))
        return absl::FailedPreconditionError(absl::StrFormat(
            "extents %u and %u overlap %s (LBAs %u..%u and %u..%u)", std::get<2>(a[i]), std::get<2>(a[i + 1]), what,
            std::get<0>(a[i]), std::get<1>(a[i]) - 1, std::get<0>(a[i + 1]), std::get<1>(a[i + 1]) - 1));
      continue;
    }
    while (j < b.size() && std::get<1>(b[j]) <= std::get<0>(a[i])) ++j;
    if (j < b.size() && std::get<0>(b[j]) < std::get<1>(a[i]))
      return absl::FailedPreconditionError(absl::StrFormat(
          "extent %u's source LBAs %u..%u overlap extent %u's destination LBAs %u..%u %s", std::get<2>(a[i]),
          std::get<0>(a[i]), std::get<1>(a[i]) - 1, std::get<2>(b[j]), std::get<0>(b[j]), std::get<1>(b[j]) - 1, what));
  }
  return absl::OkStatus();
}

absl::Status Copier::Impl::CheckExtents(const std::vector<Extent>& extents, uint64_t* total) const {
  const Namespace& s = plan.src.ns;
  Spans src, dst;
  *total = 0;
  for (size_t i = 0; i < extents.size(); ++i) {
    const Extent& e = extents[i];
    if (e.count == 0) return absl::InvalidArgumentError(absl::StrFormat("extent %u has no LBAs", i));
    if (e.src_lba >= s.capacity_blocks || e.count > s.capacity_blocks - e.src_lba)
      return absl::OutOfRangeError(absl::StrFormat("extent %u: source LBAs %u..%u leave %s (%u LBAs)", i, e.src_lba,
                                                   e.src_lba + e.count - 1, s.name, s.capacity_blocks));
    const uint64_t bytes = e.count * s.lba_size;
    if (bytes % unit != 0)
      return absl::InvalidArgumentError(absl::StrFormat(
          "extent %u: %u bytes are not whole LBAs of every end (multiples of %u bytes)", i, bytes, unit));
    for (const DstState& d : dsts) {
      const uint64_t n = bytes / d.end.ns.lba_size, cap = d.end.ns.capacity_blocks;
      if (e.dst_lba >= cap || n > cap - e.dst_lba)
        return absl::OutOfRangeError(absl::StrFormat("extent %u: destination LBAs %u..%u leave %s (%u LBAs)", i,
                                                     e.dst_lba, e.dst_lba + n - 1, d.end.ns.name, cap));
    }
    src.emplace_back(e.src_lba, e.src_lba + e.count, i);
    dst.emplace_back(e.dst_lba, e.dst_lba + bytes / plan.dst.ns.lba_size, i);
    *total += bytes;
  }
  CMB_RETURN_IF_ERROR(Overlaps(dst, {}, "on the destination"));
  for (const DstState& d : dsts)
    if (SameNamespace(plan.src.ns, d.end.ns))  // one LBA size: the spans compare directly
      CMB_RETURN_IF_ERROR(Overlaps(src, dst, absl::StrCat("in ", d.end.ns.name).c_str()));
  return absl::OkStatus();
}

Clock::time_point Copier::Impl::NextStart() const {
  if (opts.rate_bytes_per_s == 0) return t0;
  return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                  static_cast<double>(started_bytes) / static_cast<double>(opts.rate_bytes_per_s)));
}

void Copier::Impl::Drop(uint64_t tag) {
  auto it = flights.find(tag);
  if (it == flights.end()) return;
  Request& r = requests.at(it->second.req);
  if (it->second.chunk) {
    if (absl::Status s = pool->Put(*it->second.chunk); !s.ok() && r.status.ok()) r.status = s;
  }
  --r.in_flight;
  flights.erase(it);
}

void Copier::Impl::DstFail(size_t d, Request& r, absl::Status s) {
  if (dsts[d].failed.ok()) dsts[d].failed = s;
  if (r.dsts[d].status.ok()) r.dsts[d].status = s;
  if (opts.stop_on_dst_failure && r.status.ok()) r.status = std::move(s);
}

bool Copier::Impl::IssueOne(Request& r) {
  const Extent& e = r.extents[r.ext];
  const uint64_t lba = plan.src.ns.lba_size, ext_bytes = e.count * lba;
  Flight f;
  f.req = r.id;
  f.ext = r.ext;
  f.offset = r.next_offset;
  f.bytes = std::min(plan.chunk_bytes, ext_bytes - r.ext_off);
  f.src_slba = e.src_lba + r.ext_off / lba;
  f.dst_slba = e.dst_lba + r.ext_off / plan.dst.ns.lba_size;  // every destination has one LBA size per byte offset
  const uint64_t tag = next_tag++;
  absl::Status s;
  if (nvme_copy) {
    NvmeQueue& q = *dsts[0].q;
    if (q.in_flight() + q.queued() >= plan.qd) return false;
    s = q.Copy(f.src_slba, static_cast<uint32_t>(f.bytes / lba), f.dst_slba, tag);
    f.writes_left = 1;
  } else {
    std::optional<DmaSpan> c = pool->Get();
    if (!c) return false;
    absl::StatusOr<DmaSpan> part = c->Subspan(0, f.bytes);  // an extent's last piece may be short
    s = part.ok() ? in->Read(f.src_slba, *part, tag) : part.status();
    if (s.ok()) f.chunk = *c;
    else (void)pool->Put(*c);
  }
  if (!s.ok()) {
    r.status = s;
    return true;
  }
  flights.emplace(tag, f);
  ++r.in_flight;
  started_bytes += f.bytes;
  r.next_offset += f.bytes;
  if ((r.ext_off += f.bytes) == ext_bytes) ++r.ext, r.ext_off = 0;
  return true;
}

void Copier::Impl::Issue() {
  // Idle time earns no credit: after a pause the rate holds from now.
  if (flights.empty() && NextStart() < Clock::now()) t0 = Clock::now(), started_bytes = 0;
  for (auto& [id, r] : requests) {
    while (!r.issuing_done()) {
      const DstState* bad = nullptr;
      bool live = false;
      for (const DstState& d : dsts) {
        if (d.failed.ok()) live = true;
        else if (!bad) bad = &d;
      }
      if (!live || (opts.stop_on_dst_failure && bad)) {
        r.status = bad->failed;
        break;
      }
      if (Clock::now() < NextStart()) return ev.ArmAt(NextStart());  // the timer wakes the driver then
      if (!IssueOne(r)) return;
    }
  }
}

void Copier::Impl::OnRead(const Completion& c) {
  auto it = flights.find(c.tag);
  if (it == flights.end()) return;
  Flight& f = it->second;
  Request& r = requests.at(f.req);
  const uint64_t nlb = f.bytes / plan.src.ns.lba_size;
  if (!c.status.ok()) {
    if (r.status.ok()) r.status = Annotate(c.status, "reading", plan.src, f.src_slba, nlb);
    return Drop(c.tag);
  }
  ++r.commands;
  if (r.cancelled || !r.status.ok()) return Drop(c.tag);
  const Extent& e = r.extents[f.ext];
  for (size_t d = 0; d < dsts.size(); ++d) {
    if (!dsts[d].failed.ok()) continue;
    const uint64_t dlba = dsts[d].end.ns.lba_size, dnlb = f.bytes / dlba;
    // The promise: never write outside the request's destination extents.
    if (f.dst_slba < e.dst_lba || f.dst_slba + dnlb > e.dst_lba + e.count * plan.src.ns.lba_size / dlba) {
      r.status = absl::InternalError("copy engine computed a write outside the destination extent; stopped");
      break;
    }
    absl::StatusOr<DmaSpan> part = f.chunk->Subspan(0, f.bytes);
    absl::Status s = part.ok() ? dsts[d].q->Write(f.dst_slba, *part, c.tag) : part.status();
    if (s.ok()) ++f.writes_left;
    else DstFail(d, r, s);
  }
  if (f.writes_left == 0) Drop(c.tag);
}

void Copier::Impl::OnWrite(size_t d, const Completion& c) {
  if (c.tag & kFlushTag) return OnFlush(d, c);
  auto it = flights.find(c.tag);
  if (it == flights.end()) return;
  Flight& f = it->second;
  Request& r = requests.at(f.req);
  if (c.status.ok()) {
    ++r.commands;
    r.dsts[d].Done(f.offset, f.bytes);
  } else {
    DstFail(d, r, Annotate(c.status, nvme_copy ? "copying to" : "writing", dsts[d].end, f.dst_slba,
                           f.bytes / dsts[d].end.ns.lba_size));
  }
  if (--f.writes_left == 0) Drop(c.tag);
}

void Copier::Impl::OnFlush(size_t d, const Completion& c) {
  dsts[d].flushing = false;
  auto it = requests.find(c.tag & ~kFlushTag);
  if (it == requests.end()) return;
  Request& r = it->second;
  r.dsts[d].flushing = false;
  if (!c.status.ok()) {
    r.dsts[d].flushed = false;
    r.dsts[d].flush_status = absl::Status(c.status.code(), absl::StrCat("flushing ", dsts[d].end.ns.name, ": ",
                                                                          c.status.message()));
  }
}

void Copier::Impl::Reap() {
  if (in)
    for (const Completion& c : in->Poll()) OnRead(c);
  for (size_t d = 0; d < dsts.size(); ++d)
    for (const Completion& c : dsts[d].q->Poll()) OnWrite(d, c);
}

// io_uring_submit failing for EAGAIN, EBUSY or EINTR leaves the commands
// queued: the next Step submits them. Any other failure leaves commands that
// will never complete, so the copier is broken: every request finishes now
// with that error, and later completions are ignored.
void Copier::Impl::SubmitAll() {
  std::vector<NvmeQueue*> qs;
  if (in) qs.push_back(&*in);
  for (DstState& d : dsts) qs.push_back(&*d.q);
  for (NvmeQueue* q : qs) {
    absl::StatusOr<unsigned> s = q->Submit();
    if (s.ok() || absl::IsUnavailable(s.status()) || !broken.ok()) continue;
    broken = absl::Status(s.status().code(), absl::StrCat("the copier stopped: submitting to ", q->ns().name,
                                                          " failed: ", s.status().message()));
  }
  if (broken.ok()) return;
  flights.clear();  // their chunks are never reused: nothing more is issued
  for (auto& [id, r] : requests) {
    if (r.status.ok()) r.status = broken;
    for (DstProgress& p : r.dsts)  // what was written and not flushed is not known durable
      if (p.written > 0 && !(r.flush_started && !p.need_flush && !p.flushing)) {
        p.flushed = false;
        if (p.flush_status.ok()) p.flush_status = broken;
      }
    finished.push_back(Complete(r));
  }
  requests.clear();
}

// Makes what the request wrote durable, also after a cancel or a failure, so
// its prefixes can be trusted: a Flush per destination it wrote (a failed
// one too: what it wrote before failing may be saved), one at a time per
// destination. False while any is pending.
bool Copier::Impl::StartFlushes(Request& r) {
  if (!r.flush_started) {
    r.flush_started = true;
    for (DstProgress& p : r.dsts) p.need_flush = p.written > 0 || r.total == 0;
  }
  bool pending = false;
  for (size_t d = 0; d < dsts.size(); ++d) {
    DstProgress& p = r.dsts[d];
    if (p.need_flush && !dsts[d].flushing) {
      p.need_flush = false;
      if (absl::Status s = dsts[d].q->Flush(kFlushTag | r.id); s.ok()) {
        p.flushing = dsts[d].flushing = true;
      } else {
        p.flushed = false;
        p.flush_status = s;
      }
    }
    pending = pending || p.need_flush || p.flushing;
  }
  return !pending;
}

CopyCompletion Copier::Impl::Complete(Request& r) {
  CopyCompletion out;
  out.id = r.id;
  out.cancelled = r.cancelled;
  out.bytes_total = r.total;
  out.commands = r.commands;
  absl::Status first = r.status;
  auto then = [](absl::Status a, const absl::Status& b) {
    if (b.ok() || b == a) return a;
    return a.ok() ? b : absl::Status(a.code(), absl::StrCat(a.message(), "; then ", b.message()));
  };
  for (size_t d = 0; d < dsts.size(); ++d) {
    DstProgress& p = r.dsts[d];
    // A destination dropped earlier, or by another request, lacks the rest.
    if (p.status.ok() && p.prefix < r.total && !dsts[d].failed.ok()) p.status = dsts[d].failed;
    p.status = then(p.status, p.flush_status);
    if (p.written > 0 || r.total == 0)
      if (absl::Status s = DropPageCache(dsts[d].cache); !s.ok()) p.page_cache_not_dropped = std::string(s.message());
    first = first.ok() ? p.status : then(first, p.flush_status);
    out.dsts.push_back({dsts[d].end.ns.name, p.status, p.prefix, p.written, p.flushed, p.page_cache_not_dropped});
  }
  out.cancelled = r.cancelled && out.prefix_bytes() < r.total;  // a cancel that came too late changed nothing
  if (first.ok() && out.cancelled)
    first = absl::CancelledError(absl::StrFormat("cancelled after %u of %u bytes", out.prefix_bytes(), r.total));
  out.status = first;
  return out;
}

void Copier::Impl::Finish() {
  for (auto it = requests.begin(); it != requests.end();) {
    Request& r = it->second;
    if (!r.issuing_done() || r.in_flight > 0 || !StartFlushes(r)) {
      ++it;
      continue;
    }
    finished.push_back(Complete(r));
    it = requests.erase(it);
  }
}

void Copier::Impl::Step() {
  ev.Drain();
  Reap();
  Issue();
  Finish();
  SubmitAll();
  // Polled completions signal no eventfd: stay readable while any is due.
  if (!opts.poll_completions) return;
  bool due = in && in->in_flight() > 0;
  for (const DstState& d : dsts) due = due || d.q->in_flight() > 0;
  if (due) ev.Notify();
}

Copier::Copier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Copier::Copier(Copier&&) noexcept = default;
Copier& Copier::operator=(Copier&&) noexcept = default;
Copier::~Copier() = default;  // Impl's members: queues reap in flight, then the buffer goes

absl::StatusOr<Copier> Copier::Open(const SysRoot& root, const CopyPlan& plan, const CopierOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->root = root;
  impl->plan = plan;
  impl->opts = options;
  CMB_RETURN_IF_ERROR(impl->Setup());
  return Copier(std::move(impl));
}

static absl::Status Closed() {
  return absl::FailedPreconditionError("the copier is closed (moved from, or Close() was called)");
}

absl::StatusOr<uint64_t> Copier::Submit(std::vector<Extent> extents) {
  if (!impl_ || impl_->closed) return Closed();
  if (!impl_->broken.ok()) return impl_->broken;
  uint64_t total = 0;
  CMB_RETURN_IF_ERROR(impl_->CheckExtents(extents, &total));
  const uint64_t id = impl_->next_id++;
  Request& r = impl_->requests[id];
  r.id = id;
  r.extents = std::move(extents);
  r.total = total;
  r.dsts.resize(impl_->dsts.size());
  impl_->ev.Notify();  // an application's loop calls Process() for it
  return id;
}

absl::Status Copier::Cancel(uint64_t id) {
  if (!impl_) return Closed();
  auto it = impl_->requests.find(id);
  if (it == impl_->requests.end()) return absl::NotFoundError(absl::StrCat("no pending copy request ", id));
  it->second.cancelled = true;
  impl_->ev.Notify();
  return absl::OkStatus();
}

void Copier::CancelAll() {
  if (!impl_) return;
  for (auto& [id, r] : impl_->requests) r.cancelled = true;
  impl_->ev.Notify();
}

std::vector<CopyCompletion> Copier::Process() {
  if (!impl_) return {};
  impl_->Step();
  return std::exchange(impl_->finished, {});
}

void Copier::WaitForEvent(std::chrono::milliseconds timeout) {
  if (impl_) impl_->ev.Wait(static_cast<int>(timeout.count()));
}

absl::StatusOr<CopyCompletion> Copier::Wait(uint64_t id, std::optional<std::chrono::milliseconds> timeout) {
  if (!impl_) return Closed();
  const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  for (;;) {
    impl_->Step();
    auto& f = impl_->finished;
    if (auto it = std::find_if(f.begin(), f.end(), [&](const CopyCompletion& c) { return c.id == id; }); it != f.end()) {
      CopyCompletion c = std::move(*it);
      f.erase(it);
      if (!f.empty()) impl_->ev.Notify();  // others wait for a Process() call
      return c;
    }
    if (!impl_->requests.count(id) || Clock::now() >= deadline) {
      if (!f.empty()) impl_->ev.Notify();  // others wait for a Process() call
      if (!impl_->requests.count(id)) return absl::NotFoundError(absl::StrCat("no pending copy request ", id));
      return absl::DeadlineExceededError(absl::StrCat("copy request ", id, " still running"));
    }
    WaitForEvent(std::min(std::chrono::milliseconds(100),
                          std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now())));
  }
}

uint64_t Copier::Progress(uint64_t id) const {
  if (!impl_) return 0;
  for (const CopyCompletion& c : impl_->finished)
    if (c.id == id) return c.prefix_bytes();
  auto it = impl_->requests.find(id);
  if (it == impl_->requests.end()) return 0;
  uint64_t p = it->second.total;
  for (size_t d = 0; d < impl_->dsts.size(); ++d)
    if (impl_->dsts[d].failed.ok()) p = std::min(p, it->second.dsts[d].prefix);
  return p;
}

void Copier::Close() {
  if (!impl_ || impl_->closed) return;
  while (!impl_->requests.empty()) {
    impl_->Step();
    if (!impl_->requests.empty()) WaitForEvent(std::chrono::milliseconds(100));
  }
  impl_->closed = true;
  impl_->dsts.clear();  // the queues (nothing in flight now) and the holds
  impl_->in.reset();
  impl_->pool.reset();
}

int Copier::event_fd() const { return impl_ ? impl_->ev.ep : -1; }
void Copier::Notify() const {
  if (impl_) impl_->ev.Notify();
}
size_t Copier::pending() const { return impl_ ? impl_->requests.size() + impl_->finished.size() : 0; }
bool Copier::Pending(uint64_t id) const {
  if (!impl_) return false;
  return impl_->requests.count(id) ||
         std::any_of(impl_->finished.begin(), impl_->finished.end(), [&](const CopyCompletion& c) { return c.id == id; });
}
const CopyPlan& Copier::plan() const {
  static const CopyPlan none;
  return impl_ ? impl_->plan : none;
}
const CopierOptions& Copier::options() const {
  static const CopierOptions none;
  return impl_ ? impl_->opts : none;
}
const CopierStats& Copier::stats() const {
  static const CopierStats none;
  return impl_ ? impl_->stats : none;
}

}  // namespace cmb
