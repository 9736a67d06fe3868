#include "copy_machine.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cmb/fix.h"
#include "absl/strings/str_format.h"

namespace cmb::internal {
namespace {

constexpr uint64_t kFlushTag = 1ull << 63;  // | request id; data commands count up from 1

absl::Status Annotate(const absl::Status& s, const char* verb, const std::string& name, uint64_t slba, uint64_t nlb) {
  return Reworded(s, absl::StrFormat("%s %s LBAs %u..%u: %s", verb, name, slba, slba + nlb - 1,
                                                s.message()));
}

// `a`, then `b` when it says something more; the fixes of both.
absl::Status Then(absl::Status a, const absl::Status& b) {
  if (b.ok() || b == a) return a;
  if (a.ok()) return b;
  absl::Status out = Reworded(a, absl::StrCat(a.message(), "; then ", b.message()));
  for (const Fix& f : FixesOf(b)) AddFix(out, f);
  return out;
}

}  // namespace

CopyMachine::CopyMachine(MachineConfig cfg, MachineEnd src, std::vector<MachineEnd> dsts, ChunkPool* pool,
                         Clock::time_point now)
    : cfg_(cfg), src_(std::move(src)), pool_(pool), pacer_(cfg.rate_bytes_per_s, now) {
  for (MachineEnd& e : dsts) dsts_.emplace_back().end = std::move(e);
}

uint64_t CopyMachine::Add(std::vector<Extent> extents, uint64_t total) {
  const uint64_t id = next_id_++;
  const ChunkCursor::Sizes sizes{.src_lba = src_.lba_size, .dst_lba = dsts_[0].end.lba_size, .chunk = cfg_.chunk_bytes};
  Request& r = requests_[id];  // not emplace(id, Request(...)): see the note on CopyMachine
  r.cursor = ChunkCursor(std::move(extents), sizes);
  r.id = id;
  r.total = total;
  r.dsts.reserve(dsts_.size());
  for (size_t d = 0; d < dsts_.size(); ++d) r.dsts.emplace_back();
  return id;
}

bool CopyMachine::Cancel(uint64_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return false;
  it->second.cancelled = true;
  return true;
}

void CopyMachine::CancelAll() {
  for (auto& kv : requests_) kv.second.cancelled = true;
}

uint64_t CopyMachine::Progress(uint64_t id) const {
  auto it = requests_.find(id);
  if (it == requests_.end()) return 0;
  uint64_t p = it->second.total;
  for (size_t d = 0; d < dsts_.size(); ++d)
    if (dsts_[d].failed.ok()) p = std::min(p, it->second.dsts[d].done.prefix());
  return p;
}

bool CopyMachine::commands_in_flight() const {
  bool any = src_.q && src_.q->in_flight() > 0;
  for (const Dst& d : dsts_) any = any || d.end.q->in_flight() > 0;
  return any;
}

CopyMachine::Turn CopyMachine::Step(Clock::time_point now) {
  Turn t;
  Reap();
  t.wake = Issue(now);
  RetireDone();
  SubmitAll();
  t.finished = std::exchange(finished_, {});
  return t;
}

void CopyMachine::ReleaseFlight(uint64_t tag) {
  auto it = flights_.find(tag);
  if (it == flights_.end()) return;
  Request& r = requests_.at(it->second.req);
  if (it->second.chunk) {
    if (absl::Status s = pool_->Put(*it->second.chunk); !s.ok() && r.status.ok()) r.status = s;
  }
  --r.in_flight;
  flights_.erase(it);
}

void CopyMachine::DstFail(size_t d, Request& r, absl::Status s) {
  if (dsts_[d].failed.ok()) dsts_[d].failed = s;
  if (r.dsts[d].status.ok()) r.dsts[d].status = s;
  if (cfg_.stop_on_dst_failure && r.status.ok()) r.status = std::move(s);
}

// Queues the request's next piece: a read into a free chunk, or an NVMe Copy.
// False when there is no room; true when queued or when the request failed.
bool CopyMachine::IssueOne(Request& r) {
  const ChunkCursor::Piece p = r.cursor.Peek();
  Flight f;
  f.req = r.id;
  f.piece = p;
  const uint64_t tag = next_tag_++;
  absl::Status s;
  if (cfg_.nvme_copy) {
    CommandQueue& q = *dsts_[0].end.q;
    if (q.in_flight() + q.queued() >= cfg_.qd) return false;
    s = q.Copy(p.src_slba, static_cast<uint32_t>(p.bytes / src_.lba_size), p.dst_slba, tag);
    f.writes_left = 1;
  } else {
    std::optional<DmaSpan> c = pool_->Get();
    if (!c) return false;
    absl::StatusOr<DmaSpan> part = c->Subspan(0, p.bytes);  // an extent's last piece may be short
    s = part.ok() ? src_.q->Read(p.src_slba, *part, tag) : part.status();
    if (s.ok()) f.chunk = *c;
    else (void)pool_->Put(*c);
  }
  if (!s.ok()) {
    r.status = s;
    return true;
  }
  flights_.emplace(tag, f);
  ++r.in_flight;
  pacer_.Started(p.bytes);
  r.cursor.Advance();
  return true;
}

// False, with the request failed, when no destination is left to write (or,
// with stop_on_dst_failure, when one failed).
bool CopyMachine::CheckLive(Request& r) const {
  const Dst* bad = nullptr;
  bool live = false;
  for (const Dst& d : dsts_) {
    if (d.failed.ok()) live = true;
    else if (!bad) bad = &d;
  }
  if (live && !(cfg_.stop_on_dst_failure && bad)) return true;
  r.status = bad->failed;
  return false;
}

std::optional<CopyMachine::Clock::time_point> CopyMachine::Issue(Clock::time_point now) {
  if (flights_.empty()) pacer_.Idle(now);
  for (auto& kv : requests_) {
    Request& r = kv.second;
    while (!r.issuing_done()) {
      if (!CheckLive(r)) break;
      if (!pacer_.MayStart(now)) return pacer_.NextStart();
      if (!IssueOne(r)) return std::nullopt;
    }
  }
  return std::nullopt;
}

void CopyMachine::OnRead(const Completion& c) {
  auto it = flights_.find(c.tag);
  if (it == flights_.end()) return;
  Flight& f = it->second;
  Request& r = requests_.at(f.req);
  if (!c.status.ok()) {
    if (r.status.ok())
      r.status = Annotate(c.status, "reading", src_.name, f.piece.src_slba, f.piece.bytes / src_.lba_size);
    return ReleaseFlight(c.tag);
  }
  ++r.commands;
  if (r.cancelled || !r.status.ok()) return ReleaseFlight(c.tag);
  WriteChunk(f, r, c.tag);
  if (f.writes_left == 0) ReleaseFlight(c.tag);
}

// The chunk just read, to every live destination.
void CopyMachine::WriteChunk(Flight& f, Request& r, uint64_t tag) {
  const Extent& e = r.cursor.extents()[f.piece.ext];
  for (size_t d = 0; d < dsts_.size(); ++d) {
    if (!dsts_[d].failed.ok()) continue;
    const uint64_t dlba = dsts_[d].end.lba_size, dnlb = f.piece.bytes / dlba;
    // The promise: never write outside the request's destination extents.
    if (f.piece.dst_slba < e.dst_lba || f.piece.dst_slba + dnlb > e.dst_lba + e.count * src_.lba_size / dlba) {
      r.status = absl::InternalError("copy engine computed a write outside the destination extent; stopped");
      return;
    }
    absl::StatusOr<DmaSpan> part = f.chunk->Subspan(0, f.piece.bytes);
    absl::Status s = part.ok() ? dsts_[d].end.q->Write(f.piece.dst_slba, *part, tag) : part.status();
    if (s.ok()) ++f.writes_left;
    else DstFail(d, r, s);
  }
}

void CopyMachine::OnWrite(size_t d, const Completion& c) {
  if (c.tag & kFlushTag) return OnFlush(d, c);
  auto it = flights_.find(c.tag);
  if (it == flights_.end()) return;
  Flight& f = it->second;
  Request& r = requests_.at(f.req);
  if (c.status.ok()) {
    ++r.commands;
    r.dsts[d].done.Done(f.piece.offset, f.piece.bytes);
  } else {
    DstFail(d, r, Annotate(c.status, cfg_.nvme_copy ? "copying to" : "writing", dsts_[d].end.name, f.piece.dst_slba,
                           f.piece.bytes / dsts_[d].end.lba_size));
  }
  if (--f.writes_left == 0) ReleaseFlight(c.tag);
}

void CopyMachine::OnFlush(size_t d, const Completion& c) {
  dsts_[d].flushing = false;
  auto it = requests_.find(c.tag & ~kFlushTag);
  if (it == requests_.end()) return;
  DstProgress& p = it->second.dsts[d];
  p.flushing = false;
  if (!c.status.ok()) {
    p.flushed = false;
    p.flush_status =
        Reworded(c.status, absl::StrCat("flushing ", dsts_[d].end.name, ": ", c.status.message()));
  }
}

void CopyMachine::Reap() {
  if (src_.q)
    for (const Completion& c : src_.q->Poll()) OnRead(c);
  for (size_t d = 0; d < dsts_.size(); ++d)
    for (const Completion& c : dsts_[d].end.q->Poll()) OnWrite(d, c);
}

// Submit failing with Unavailable (EAGAIN, EBUSY, EINTR) leaves the commands
// queued: the next Step submits them. Any other failure leaves commands that
// will never complete, so the machine is broken.
void CopyMachine::SubmitAll() {
  std::vector<std::pair<CommandQueue*, const std::string*>> qs;
  if (src_.q) qs.emplace_back(src_.q, &src_.name);
  for (Dst& d : dsts_) qs.emplace_back(d.end.q, &d.end.name);
  for (const auto& qn : qs) {
    CommandQueue* q = qn.first;
    const std::string* name = qn.second;
    absl::StatusOr<unsigned> s = q->Submit();
    if (s.ok() || absl::IsUnavailable(s.status()) || !broken_.ok()) continue;
    broken_ = Reworded(s.status(), absl::StrCat("the copier stopped: submitting to ", *name,
                                                           " failed: ", s.status().message()));
  }
  if (!broken_.ok()) BreakAll();
}

// Every request finishes now with the machine's error; later completions
// are ignored.
void CopyMachine::BreakAll() {
  flights_.clear();  // their chunks are never reused: nothing more is issued
  for (auto& kv : requests_) {
    Request& r = kv.second;
    if (r.status.ok()) r.status = broken_;
    for (DstProgress& p : r.dsts)  // what was written and not flushed is not known durable
      if (p.done.written() > 0 && !(r.flush_started && !p.need_flush && !p.flushing)) {
        p.flushed = false;
        if (p.flush_status.ok()) p.flush_status = broken_;
      }
    finished_.push_back(CompletionOf(r));
  }
  requests_.clear();
}

// Makes what the request wrote durable, also after a cancel or a failure, so
// its prefixes can be trusted: a Flush per destination it wrote (a failed
// one too: what it wrote before failing may be saved), one at a time per
// destination. False while any is pending.
bool CopyMachine::StartFlushes(Request& r) {
  if (!r.flush_started) {
    r.flush_started = true;
    for (DstProgress& p : r.dsts) p.need_flush = p.done.written() > 0 || r.total == 0;
  }
  bool pending = false;
  for (size_t d = 0; d < dsts_.size(); ++d) {
    DstProgress& p = r.dsts[d];
    if (p.need_flush && !dsts_[d].flushing) {
      p.need_flush = false;
      if (absl::Status s = dsts_[d].end.q->Flush(kFlushTag | r.id); s.ok()) {
        p.flushing = dsts_[d].flushing = true;
      } else {
        p.flushed = false;
        p.flush_status = s;
      }
    }
    pending = pending || p.need_flush || p.flushing;
  }
  return !pending;
}

CopyCompletion CopyMachine::CompletionOf(Request& r) {
  CopyCompletion out;
  out.id = r.id;
  out.bytes_total = r.total;
  out.commands = r.commands;
  absl::Status first = r.status;
  for (size_t d = 0; d < dsts_.size(); ++d) {
    DstProgress& p = r.dsts[d];
    // A destination dropped earlier, or by another request, lacks the rest.
    if (p.status.ok() && p.done.prefix() < r.total && !dsts_[d].failed.ok()) p.status = dsts_[d].failed;
    p.status = Then(p.status, p.flush_status);
    first = first.ok() ? p.status : Then(first, p.flush_status);
    DstCompletion& o = out.dsts.emplace_back();
    o.name = dsts_[d].end.name;
    o.status = p.status;
    o.prefix_bytes = p.done.prefix();
    o.bytes_written = p.done.written();
    o.flushed = p.flushed;
  }
  out.cancelled = r.cancelled && out.prefix_bytes() < r.total;  // a cancel that came too late changed nothing
  if (first.ok() && out.cancelled)
    first = absl::CancelledError(absl::StrFormat("cancelled after %u of %u bytes", out.prefix_bytes(), r.total));
  out.status = first;
  return out;
}

void CopyMachine::RetireDone() {
  for (auto it = requests_.begin(); it != requests_.end();) {
    Request& r = it->second;
    if (!r.issuing_done() || r.in_flight > 0 || !StartFlushes(r)) {
      ++it;
      continue;
    }
    finished_.push_back(CompletionOf(r));
    it = requests_.erase(it);
  }
}

}  // namespace cmb::internal
