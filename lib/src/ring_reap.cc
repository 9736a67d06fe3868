#include "ring_reap.h"

#include <cerrno>

namespace cmb::internal {
namespace {
int RealWait(io_uring* ring, io_uring_cqe** cqe) { return io_uring_wait_cqe(ring, cqe); }
}  // namespace

int ReapCompletions(io_uring* ring, unsigned n, WaitCqeFn wait) {
  if (wait == nullptr) wait = RealWait;
  while (n > 0) {
    io_uring_cqe* cqe = nullptr;
    int rc = wait(ring, &cqe);
    if (rc == -EINTR || rc == -EAGAIN) continue;
    // Any other failure means the ring itself is broken; nothing more will
    // complete through it, and ring exit cancels what remains.
    if (rc < 0) return rc;
    io_uring_cqe_seen(ring, cqe);
    --n;
  }
  return 0;
}

}  // namespace cmb::internal
