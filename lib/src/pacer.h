// Pacer: the copier's rate limit, like pv -L. A command may start once the
// bytes started before it fit in rate x the time since the pace began. Time
// is passed in, so the schedule is tested without a clock.
//
//   Pacer p(100 << 20, now);         // 100 MiB/s; 0: no limit
//   if (p.MayStart(now)) { issue; p.Started(bytes); } else arm a timer at p.NextStart();
#pragma once

#include <chrono>
#include <cstdint>

#pragma GCC visibility push(hidden)
namespace cmb::internal {

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;
  Pacer(uint64_t bytes_per_s, Clock::time_point now) : rate_(bytes_per_s), t0_(now) {}
  bool limited() const { return rate_ != 0; }
  Clock::time_point NextStart() const {
    if (rate_ == 0) return t0_;
    return t0_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                     static_cast<double>(started_) / static_cast<double>(rate_)));
  }
  bool MayStart(Clock::time_point now) const { return now >= NextStart(); }
  void Started(uint64_t bytes) { started_ += bytes; }
  // Nothing is in flight: time spent idle earns no credit, so after a pause
  // that left the schedule behind the rate holds from `now`.
  void Idle(Clock::time_point now) {
    if (NextStart() < now) t0_ = now, started_ = 0;
  }

 private:
  uint64_t rate_ = 0;
  Clock::time_point t0_;
  uint64_t started_ = 0;
};

}  // namespace cmb::internal
#pragma GCC visibility pop
