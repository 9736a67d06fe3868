// ReapCompletions: waits for and consumes a known number of io_uring
// completions, retrying waits that a signal interrupted. A queue's destructor
// uses it: commands in flight still DMA into caller memory, so the memory may
// be freed only after every one of them completed, SIGINT or not.
//
//   ReapCompletions(&ring, in_flight);   // 0, or -errno of a wait that failed otherwise
#pragma once

#include <liburing.h>

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

using WaitCqeFn = int (*)(io_uring*, io_uring_cqe**);

// Tests inject `wait` to simulate EINTR; production uses io_uring_wait_cqe.
int ReapCompletions(io_uring* ring, unsigned n, WaitCqeFn wait = nullptr);

}  // namespace cmb::internal
#pragma GCC visibility pop
