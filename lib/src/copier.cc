// Copier: the public face of the engine. It checks a plan, opens what the
// copier holds (copier_resources.h), and runs the state machine
// (copy_machine.h) whenever its driver calls; each request's extents are
// checked before it is queued (copy_extents.h), and each finished request's
// destinations get their page cache dropped (page_cache.h).
#include "cmb/copier.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cmb/status_macros.h"
#include "copier_resources.h"
#include "copy_extents.h"
#include "copy_machine.h"
#include "event_fd.h"

namespace cmb {

using internal::CopierResources;
using internal::CopyMachine;
using internal::EventFd;
namespace {

using Clock = std::chrono::steady_clock;

absl::Status CheckPlan(const CopyPlan& plan) {
  if (plan.read_only)
    return absl::InvalidArgumentError("the plan was made read-only: its destinations' use was not checked");
  const uint64_t unit = plan.lba_unit();
  if (plan.chunk_bytes == 0 || plan.qd == 0 || unit == 0 || plan.chunk_bytes % unit != 0)
    return absl::InvalidArgumentError("the plan has no valid chunk size or queue depth");
  if (plan.method == CopyMethod::kNvmeCopy && !plan.fanout.empty())
    return absl::InvalidArgumentError("nvme-copy has one destination: the source's own namespace");
  for (const CopyEnd* e : plan.destinations())
    if (e->ns.lba_size != plan.dst.ns.lba_size)
      return absl::InvalidArgumentError("a fan-out's destinations must share one LBA size");
  return absl::OkStatus();
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
  EventFd ev;
  // The machine points into the resources: it goes first. Both go at Close.
  std::unique_ptr<CopierResources> res;
  std::optional<CopyMachine> machine;
  std::vector<CopyCompletion> finished;  // not yet returned by Process or Wait

  absl::Status Setup();
  void Step();
  void DropPageCaches(CopyCompletion& c) const;
  bool Finished(uint64_t id) const {
    return std::any_of(finished.begin(), finished.end(), [&](const CopyCompletion& c) { return c.id == id; });
  }
};

absl::Status Copier::Impl::Setup() {
  CMB_RETURN_IF_ERROR(CheckPlan(plan));
  if (!ev.ok) return absl::ErrnoToStatus(errno, "eventfd, timerfd or epoll");
  CMB_ASSIGN_OR_RETURN(res, internal::OpenCopierResources(root, plan, opts, ev.ev));
  stats.not_held = res->not_held;
  stats.dst_held = plan.hold_dst && stats.not_held.empty();
  std::vector<internal::MachineEnd> dsts;
  for (internal::DstResources& d : res->dsts) dsts.push_back({d.end.ns.name, d.end.ns.lba_size, d.q.get()});
  machine.emplace(internal::MachineConfig{.chunk_bytes = plan.chunk_bytes,
                                          .qd = plan.qd,
                                          .nvme_copy = plan.method == CopyMethod::kNvmeCopy,
                                          .stop_on_dst_failure = opts.stop_on_dst_failure,
                                          .rate_bytes_per_s = opts.rate_bytes_per_s},
                  internal::MachineEnd{plan.src.ns.name, plan.src.ns.lba_size, res->src.get()}, std::move(dsts),
                  res->pool ? &*res->pool : nullptr, Clock::now());
  return absl::OkStatus();
}

// Passthrough writes bypass the page cache: readers of the block device see
// the copy only once its clean pages are dropped.
void Copier::Impl::DropPageCaches(CopyCompletion& c) const {
  for (size_t d = 0; d < c.dsts.size(); ++d)
    if (c.dsts[d].bytes_written > 0 || c.bytes_total == 0)
      if (absl::Status s = internal::DropPageCache(res->dsts[d].cache); !s.ok())
        c.dsts[d].page_cache_not_dropped = std::string(s.message());
}

void Copier::Impl::Step() {
  ev.Drain();  // also after Close: a Notify or the timer must not leave poll_fd() readable for good
  if (!machine) return;
  CopyMachine::Turn t = machine->Step(Clock::now());
  if (t.wake) ev.ArmAt(*t.wake);  // the timer wakes the driver then
  for (CopyCompletion& c : t.finished) {
    DropPageCaches(c);
    finished.push_back(std::move(c));
  }
  // Polled completions signal no eventfd: stay readable while any is due.
  if (opts.poll_completions && machine->commands_in_flight()) ev.Notify();
}

Copier::Copier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Copier::Copier(Copier&&) noexcept = default;
Copier& Copier::operator=(Copier&&) noexcept = default;
Copier::~Copier() = default;  // the queues reap what is in flight, then the buffers go

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

static absl::Status NotPending(uint64_t id) { return absl::NotFoundError(absl::StrCat("no pending copy request ", id)); }

absl::StatusOr<uint64_t> Copier::Submit(std::vector<Extent> extents) {
  if (!impl_ || !impl_->machine) return Closed();
  if (!impl_->machine->broken().ok()) return impl_->machine->broken();
  const CopyPlan& p = impl_->plan;
  CMB_ASSIGN_OR_RETURN(uint64_t total, internal::CheckCopyExtents(p.src, p.destinations(), p.lba_unit(), extents));
  const uint64_t id = impl_->machine->Add(std::move(extents), total);
  impl_->ev.Notify();  // an application's loop calls Process() for it
  return id;
}

absl::Status Copier::Cancel(uint64_t id) {
  if (!impl_) return Closed();
  if (!impl_->machine || !impl_->machine->Cancel(id)) return NotPending(id);
  impl_->ev.Notify();
  return absl::OkStatus();
}

void Copier::CancelAll() {
  if (!impl_ || !impl_->machine) return;
  impl_->machine->CancelAll();
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
    const bool running = impl_->machine && impl_->machine->Running(id);
    if (!running || Clock::now() >= deadline) {
      if (!f.empty()) impl_->ev.Notify();  // others wait for a Process() call
      if (!running) return NotPending(id);
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
  return impl_->machine ? impl_->machine->Progress(id) : 0;
}

void Copier::Close() {
  if (!impl_ || !impl_->machine) return;
  while (impl_->machine->running() > 0) {
    impl_->Step();
    if (impl_->machine->running() > 0) WaitForEvent(std::chrono::milliseconds(100));
  }
  impl_->machine.reset();
  impl_->res.reset();  // the queues (nothing in flight now), the holds, the buffers
}

int Copier::poll_fd() const { return impl_ ? impl_->ev.ep : -1; }
void Copier::Notify() const {
  if (impl_) impl_->ev.Notify();
}
size_t Copier::pending() const {
  if (!impl_) return 0;
  return (impl_->machine ? impl_->machine->running() : 0) + impl_->finished.size();
}
bool Copier::Pending(uint64_t id) const {
  if (!impl_) return false;
  return (impl_->machine && impl_->machine->Running(id)) || impl_->Finished(id);
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
