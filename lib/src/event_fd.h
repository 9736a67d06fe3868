// An eventfd the copier's queues signal on every completion
// (NvmeQueue::NotifyEventFd), so one thread sleeps on all of them at once.
#pragma once

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace cmb {

struct EventFd {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  EventFd() = default;
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  ~EventFd() {
    if (fd >= 0) ::close(fd);
  }
  // Sleeps until a registered queue completes something or `ms` pass.
  void Wait(int ms) const {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, std::max(ms, 0));  // EINTR is fine: the caller re-checks everything
  }
  void Drain() const {
    uint64_t v;
    [[maybe_unused]] ssize_t n = ::read(fd, &v, sizeof v);
  }
};

}  // namespace cmb
