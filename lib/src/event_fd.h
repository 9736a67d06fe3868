// What wakes a copier's driver: an eventfd the queues signal on every
// completion (NvmeQueue::NotifyEventFd), which callers may also signal
// (Notify), and a timerfd for the rate limit's next start, both in one epoll
// fd, so an application polls a single fd and never misses a reason to call
// Process().
#pragma once

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

struct EventFd {
  int ev = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);  // what queues signal
  int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);  // what callers poll
  bool ok = false;
  EventFd() {
    epoll_event e{};
    e.events = EPOLLIN;
    ok = ev >= 0 && timer >= 0 && ep >= 0 && ::epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0 &&
         ::epoll_ctl(ep, EPOLL_CTL_ADD, timer, &e) == 0;
  }
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  ~EventFd() {
    for (int fd : {ev, timer, ep})
      if (fd >= 0) ::close(fd);
  }
  void Notify() const {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(ev, &one, sizeof one);
  }
  // Makes the fd readable at `t` (steady_clock is CLOCK_MONOTONIC on Linux).
  void ArmAt(std::chrono::steady_clock::time_point t) const {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    itimerspec its{};
    its.it_value.tv_sec = std::max<int64_t>(ns / 1000000000, 0);
    its.it_value.tv_nsec = ns % 1000000000;
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;  // 0 would disarm
    ::timerfd_settime(timer, TFD_TIMER_ABSTIME, &its, nullptr);
  }
  // Sleeps until something is readable or `ms` pass.
  void Wait(int ms) const {
    pollfd p{ep, POLLIN, 0};
    ::poll(&p, 1, std::max(ms, 0));  // EINTR is fine: the caller re-checks everything
  }
  void Drain() const {
    uint64_t v;
    [[maybe_unused]] ssize_t a = ::read(ev, &v, sizeof v);
    [[maybe_unused]] ssize_t b = ::read(timer, &v, sizeof v);
  }
};

}  // namespace cmb::internal
#pragma GCC visibility pop
