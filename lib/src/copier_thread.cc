#include "cmb/copier_thread.h"

#include <poll.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"

namespace cmb {

CopierThread::CopierThread(Copier copier, std::function<void(const CopyCompletion&)> on_done)
    : copier_(std::move(copier)), on_done_(std::move(on_done)), thread_([this] { Loop(); }) {}

absl::StatusOr<std::unique_ptr<CopierThread>> CopierThread::Start(Copier copier,
                                                                   std::function<void(const CopyCompletion&)> on_done) {
  if (copier.poll_fd() < 0) return absl::FailedPreconditionError("the copier is closed (moved from)");
  return std::unique_ptr<CopierThread>(new CopierThread(std::move(copier), std::move(on_done)));
}

CopierThread::~CopierThread() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  Wake();
  thread_.join();
  // Waiters woken by the loop's last notify still read our members: let them go first.
  std::unique_lock<std::mutex> l(mu_);
  idle_cv_.wait(l, [this] { return waiters_ == 0; });
}

// The copier's eventfd wakes the loop: a completion, or a caller's request.
void CopierThread::Wake() { copier_.Notify(); }

void CopierThread::Loop() {
  for (;;) {
    std::vector<CopyCompletion> finished;
    {
      // Into done_ under the same lock, so Wait never sees a request in neither place.
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) break;
      finished = copier_.Process();
      for (const CopyCompletion& c : finished) done_[c.id] = c;
      if (!finished.empty()) done_cv_.notify_all();
    }
    for (const CopyCompletion& c : finished)
      if (on_done_) on_done_(c);
    // Polls the fd only (no copier state), so callers are not locked out.
    pollfd p{copier_.poll_fd(), POLLIN, 0};
    // Polled completions keep the fd readable: yield, so callers waiting for
    // mu_ get it (std::mutex is not fair).
    if (::poll(&p, 1, 1000) > 0 && copier_.options().poll_completions) std::this_thread::yield();
  }
  // Cancel what is left and drive it to the end, so every request still
  // gets its flush, its completion and on_done.
  for (;;) {
    std::vector<CopyCompletion> finished;
    bool more;
    {
      std::lock_guard<std::mutex> l(mu_);
      copier_.CancelAll();
      finished = copier_.Process();
      for (const CopyCompletion& c : finished) done_[c.id] = c;
      more = copier_.pending() > 0;
      done_cv_.notify_all();
    }
    for (const CopyCompletion& c : finished)
      if (on_done_) on_done_(c);
    if (!more) break;
    pollfd p{copier_.poll_fd(), POLLIN, 0};
    ::poll(&p, 1, 1000);
  }
}

absl::StatusOr<uint64_t> CopierThread::Submit(std::vector<Extent> extents) {
  absl::StatusOr<uint64_t> id;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return absl::FailedPreconditionError("the copier thread is stopping");
    id = copier_.Submit(std::move(extents));
  }
  if (id.ok()) Wake();
  return id;
}

absl::Status CopierThread::Cancel(uint64_t id) {
  absl::Status s;
  {
    std::lock_guard<std::mutex> l(mu_);
    s = copier_.Cancel(id);
  }
  Wake();
  return s;
}

uint64_t CopierThread::Progress(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  return copier_.Progress(id);
}

absl::StatusOr<CopyCompletion> CopierThread::Wait(uint64_t id, std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock<std::mutex> l(mu_);
  ++waiters_;
  struct Leave {  // on every return, under mu_
    CopierThread* t;
    ~Leave() {
      if (--t->waiters_ == 0) t->idle_cv_.notify_all();
    }
  } leave{this};
  const auto deadline = std::chrono::steady_clock::now() + timeout.value_or(std::chrono::milliseconds(0));
  for (;;) {
    if (auto it = done_.find(id); it != done_.end()) {
      CopyCompletion c = std::move(it->second);
      done_.erase(it);
      return c;
    }
    if (!copier_.Pending(id)) return absl::NotFoundError(absl::StrCat("no pending copy request ", id));
    if (!timeout) done_cv_.wait(l);
    else if (done_cv_.wait_until(l, deadline) == std::cv_status::timeout && !done_.count(id))
      return absl::DeadlineExceededError(absl::StrCat("copy request ", id, " still running"));
  }
}

}  // namespace cmb
