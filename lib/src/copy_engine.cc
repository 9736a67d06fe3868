#include "cmb/copy_engine.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmb/copier.h"

namespace cmb {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void Fill(CopyResult& r, const CopyCompletion& done) {
  r.stopped = done.cancelled;
  r.status = done.cancelled && absl::IsCancelled(done.status) ? absl::OkStatus() : done.status;
  r.bytes_done = r.resumed_from + done.prefix_bytes();
  r.commands = done.commands;
  for (const DstCompletion& d : done.dsts) {
    r.bytes_moved = std::max(r.bytes_moved, d.bytes_written);
    r.flushed = r.flushed && d.flushed;
    if (r.page_cache_not_dropped.empty()) r.page_cache_not_dropped = d.page_cache_not_dropped;
  }
  r.dsts = done.dsts;
}

// Every run ends here: its wall time, and progress once more.
CopyResult Finish(CopyResult r, uint64_t total, const CopyControl& control, Clock::time_point t0) {
  r.seconds = Since(t0);
  if (control.progress) control.progress(CopyProgress{r.bytes_done, total, r.seconds});
  return r;
}

CopyCompletion Drive(Copier& c, uint64_t id, uint64_t total, const CopyControl& control, Clock::time_point t0,
                     std::vector<CopyCompletion>* others) {
  // A request the copier does not have ends at once; one that finished
  // already comes out of the loop's first Process().
  if (!c.Pending(id)) {
    CopyCompletion lost;
    lost.id = id;
    lost.status = absl::NotFoundError(absl::StrCat("no pending copy request ", id));
    return lost;
  }
  bool cancelled = false;
  Clock::time_point next_tick = t0 + control.tick;
  for (;;) {
    for (CopyCompletion& done : c.Process()) {
      if (done.id == id) return std::move(done);
      if (others) others->push_back(std::move(done));
    }
    if (!cancelled && control.stop && control.stop()) cancelled = c.Cancel(id).ok();
    if (Clock::now() >= next_tick) {
      next_tick = Clock::now() + control.tick;
      if (control.progress) control.progress(CopyProgress{control.resume_bytes + c.Progress(id), total, Since(t0)});
    }
    c.WaitForEvent(std::chrono::ceil<std::chrono::milliseconds>(next_tick - Clock::now()));
  }
}

// A Copier opened for `plan` with `extents` as its one request, driven to
// its end; `total` is what progress counts up to (control.resume_bytes on).
CopyResult Run(const SysRoot& root, const CopyPlan& plan, std::vector<Extent> extents, uint64_t total,
               const CopyControl& control, Clock::time_point t0) {
  CopyResult r;
  r.resumed_from = r.bytes_done = control.resume_bytes;
  absl::StatusOr<Copier> c = Copier::Open(root, plan, control.copier);
  if (!c.ok()) {
    r.status = c.status();
    return Finish(std::move(r), total, control, t0);
  }
  r.dst_held = c->stats().dst_held;
  r.dst_not_held = absl::StrJoin(c->stats().not_held, "; ");
  absl::StatusOr<uint64_t> id = c->Submit(std::move(extents));
  if (!id.ok()) {
    r.status = id.status();
    return Finish(std::move(r), total, control, t0);
  }
  Fill(r, Drive(*c, *id, total, control, t0, nullptr));
  return Finish(std::move(r), total, control, t0);
}

// A run refused before it started: nothing done.
CopyResult Refused(absl::Status why, uint64_t total, const CopyControl& control, Clock::time_point t0) {
  CopyResult r;
  r.status = std::move(why);
  return Finish(std::move(r), total, control, t0);
}

}  // namespace

std::string WhyNotResumable(const CopyPlan& plan, uint64_t offset) {
  const uint64_t unit = plan.lba_unit();
  if (offset > plan.bytes) return absl::StrFormat("beyond the %u-byte range", plan.bytes);
  if (unit == 0 || offset % unit != 0) return absl::StrFormat("not a multiple of %u bytes (both LBA sizes)", unit);
  return "";
}

absl::Status CheckResumeOffset(const CopyPlan& plan, uint64_t offset) {
  const std::string why = WhyNotResumable(plan, offset);
  if (why.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat("cannot resume at byte %u: it is %s", offset, why));
}

// One request of one extent: the range from resume_bytes on.
CopyResult RunCopy(const SysRoot& root, const CopyPlan& plan, const CopyControl& control) {
  const Clock::time_point t0 = Clock::now();
  if (absl::Status s = CheckResumeOffset(plan, control.resume_bytes); !s.ok())
    return Refused(std::move(s), plan.bytes, control, t0);
  std::vector<Extent> rest;
  if (const uint64_t left = plan.bytes - control.resume_bytes; left > 0)
    rest.push_back({plan.src.lba + control.resume_bytes / plan.src.ns.lba_size,
                    plan.dst.lba + control.resume_bytes / plan.dst.ns.lba_size, left / plan.src.ns.lba_size});
  return Run(root, plan, std::move(rest), plan.bytes, control, t0);
}

CopyResult RunExtents(const SysRoot& root, const CopyPlan& plan, std::vector<Extent> extents,
                      const CopyControl& control) {
  const Clock::time_point t0 = Clock::now();
  uint64_t total = 0;
  for (const Extent& e : extents) total += e.count * plan.src.ns.lba_size;
  if (control.resume_bytes != 0)
    return Refused(absl::InvalidArgumentError("a resume offset is a range's: an extent list goes on by "
                                              "submitting the extents not yet done"),
                   total, control, t0);
  return Run(root, plan, std::move(extents), total, control, t0);
}

CopyCompletion DriveRequest(Copier& copier, uint64_t id, uint64_t bytes_total, const CopyControl& control,
                            std::vector<CopyCompletion>* others) {
  return Drive(copier, id, bytes_total, control, Clock::now(), others);
}

}  // namespace cmb
