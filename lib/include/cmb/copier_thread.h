// CopierThread: a Copier (copier.h) driven by a thread of its own, for
// applications without an event loop. Submit, Cancel and Wait may be called
// from any thread; `on_done` runs on the copier's thread for every finished
// request (keep it short: the copier waits for it).
//
//   absl::StatusOr<std::unique_ptr<cmb::CopierThread>> t = cmb::CopierThread::Start(std::move(*copier));
//   absl::StatusOr<uint64_t> id = (*t)->Submit({{0, 0, 2048}});          // from any thread
//   absl::StatusOr<cmb::CopyCompletion> done = (*t)->Wait(*id);          // blocks this thread only
//
// Threads: every method is thread-safe, except from inside on_done, which
// must not destroy the CopierThread nor Wait without a timeout (the thread
// that would finish the request is the one running on_done). Lifetime:
// destroying it cancels what is pending and drives it to the end (each
// request still gets its flush, completion and on_done), waits for threads in
// Wait to return, and joins; completions not taken by Wait are dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/copier.h"

namespace cmb {

class CopierThread {
 public:
  static absl::StatusOr<std::unique_ptr<CopierThread>> Start(
      Copier copier, std::function<void(const CopyCompletion&)> on_done = {});
  ~CopierThread();
  CopierThread(const CopierThread&) = delete;
  CopierThread& operator=(const CopierThread&) = delete;

  absl::StatusOr<uint64_t> Submit(std::vector<Extent> extents);
  absl::Status Cancel(uint64_t id);
  // Blocks until request `id` finishes (DeadlineExceeded after `timeout`).
  absl::StatusOr<CopyCompletion> Wait(uint64_t id, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  uint64_t Progress(uint64_t id);

 private:
  CopierThread(Copier copier, std::function<void(const CopyCompletion&)> on_done);
  void Loop();
  void Wake();

  std::mutex mu_;
  std::condition_variable done_cv_, idle_cv_;
  unsigned waiters_ = 0;  // threads inside Wait
  Copier copier_;
  std::function<void(const CopyCompletion&)> on_done_;
  std::map<uint64_t, CopyCompletion> done_;  // finished, not yet taken by Wait
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace cmb
