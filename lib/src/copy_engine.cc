#include "cmb/copy_engine.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmb/copier.h"

namespace cmb {
namespace {

using Clock = std::chrono::steady_clock;

void Fill(CopyResult& r, const CopyCompletion& done, uint64_t resume) {
  r.stopped = done.cancelled;
  r.status = done.cancelled && absl::IsCancelled(done.status) ? absl::OkStatus() : done.status;
  r.bytes_done = resume + done.prefix_bytes();
  r.commands = done.commands;
  for (const DstCompletion& d : done.dsts) {
    r.bytes_moved = std::max(r.bytes_moved, d.bytes_written);
    r.flushed = r.flushed && d.flushed;
    if (r.page_cache_not_dropped.empty()) r.page_cache_not_dropped = d.page_cache_not_dropped;
  }
  r.dsts = done.dsts;
}

}  // namespace

// A client of the Copier: one request of one extent (from resume_bytes),
// with stop(), progress() and the rate limit on top.
CopyResult RunCopy(const SysRoot& root, const CopyPlan& plan, const CopyControl& control) {
  CopyResult r;
  const Clock::time_point t0 = Clock::now();
  auto finish = [&]() -> CopyResult {
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (control.progress) control.progress(CopyProgress{r.bytes_done, plan.bytes, r.seconds});
    return r;
  };
  uint64_t unit = plan.lba_unit();
  if (unit == 0 || control.resume_bytes % unit != 0 || control.resume_bytes > plan.bytes) {
    r.status = absl::InvalidArgumentError(absl::StrFormat(
        "cannot resume at byte %u: not a multiple of %u bytes within the %u-byte range", control.resume_bytes, unit,
        plan.bytes));
    return finish();
  }
  r.bytes_done = control.resume_bytes;
  absl::StatusOr<Copier> c = Copier::Open(
      root, plan, control.copier);
  if (!c.ok()) {
    r.status = c.status();
    return finish();
  }
  r.dst_held = c->stats().dst_held;
  r.dst_not_held = absl::StrJoin(c->stats().not_held, "; ");
  std::vector<Extent> extent;
  if (const uint64_t left = plan.bytes - control.resume_bytes; left > 0)
    extent.push_back({plan.src.lba + control.resume_bytes / plan.src.ns.lba_size,
                      plan.dst.lba + control.resume_bytes / plan.dst.ns.lba_size, left / plan.src.ns.lba_size});
  absl::StatusOr<uint64_t> id = c->Submit(std::move(extent));
  if (!id.ok()) {
    r.status = id.status();
    return finish();
  }
  bool cancelled = false;
  Clock::time_point next_tick = t0 + control.tick;
  for (;;) {
    for (const CopyCompletion& done : c->Process())
      if (done.id == *id) {
        Fill(r, done, control.resume_bytes);
        return finish();
      }
    if (!cancelled && control.stop && control.stop()) cancelled = c->Cancel(*id).ok();
    if (Clock::now() >= next_tick) {
      next_tick = Clock::now() + control.tick;
      r.bytes_done = control.resume_bytes + c->Progress(*id);
      if (control.progress)
        control.progress(CopyProgress{r.bytes_done, plan.bytes, std::chrono::duration<double>(Clock::now() - t0).count()});
    }
    c->WaitForEvent(std::chrono::ceil<std::chrono::milliseconds>(next_tick - Clock::now()));
  }
}

}  // namespace cmb
