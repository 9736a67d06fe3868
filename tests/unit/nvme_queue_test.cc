// NvmeQueue's lifetime rules, with the failures injected: a destructor that
// must reap through signals, and a ring setup that fails. Needs io_uring on
// the host (any kernel >= 5.1); no NVMe device is touched.
#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "cmb/fix.h"
#include "cmb/nvme_queue.h"
#include "ring_reap.h"

namespace {

int g_waits = 0;
// Every other wait is "interrupted by a signal", as a SIGINT during a
// destructor's drain would be.
int InterruptedEveryOtherTime(io_uring* ring, io_uring_cqe** cqe) {
  if (g_waits++ % 2 == 0) return -EINTR;
  return io_uring_wait_cqe(ring, cqe);
}

TEST(ReapCompletions, RetriesWaitsThatASignalInterrupted) {
  io_uring ring;
  ASSERT_EQ(io_uring_queue_init(8, &ring, 0), 0);
  constexpr unsigned kN = 5;
  for (unsigned i = 0; i < kN; ++i) io_uring_prep_nop(io_uring_get_sqe(&ring));
  ASSERT_EQ(io_uring_submit(&ring), static_cast<int>(kN));
  g_waits = 0;
  EXPECT_EQ(cmb::internal::ReapCompletions(&ring, kN, InterruptedEveryOtherTime), 0);
  EXPECT_EQ(g_waits, static_cast<int>(2 * kN)) << "each completion took one EINTR and one real wait";
  EXPECT_EQ(io_uring_cq_ready(&ring), 0u) << "every completion was consumed";
  io_uring_queue_exit(&ring);
}

int g_calls = 0;
int Broken(io_uring*, io_uring_cqe**) {
  ++g_calls;
  return -EBADF;
}

TEST(ReapCompletions, StopsOnAWaitThatFailsForGood) {
  io_uring ring;
  ASSERT_EQ(io_uring_queue_init(2, &ring, 0), 0);
  g_calls = 0;
  EXPECT_EQ(cmb::internal::ReapCompletions(&ring, 3, Broken), -EBADF);
  EXPECT_EQ(g_calls, 1) << "a broken ring is not retried forever";
  io_uring_queue_exit(&ring);
}

// With no file descriptor left, io_uring_queue_init fails (EMFILE): Open must
// say so and leak nothing (the ASan pass checks the heap; here, the fds).
TEST(NvmeQueue, FailedRingSetupLeaksNothing) {
  cmb::Namespace ns;
  ns.name = "nvme9n1";
  ns.generic_device = "/nonexistent/ng9n1";  // never reached: the ring comes first
  ns.lba_size = 512;
  ns.capacity_blocks = 8;
  int probe = ::dup(0);
  ASSERT_GE(probe, 0);
  ::close(probe);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(probe);  // every fd number below the first free one is taken
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  absl::StatusOr<cmb::NvmeQueue> q = cmb::NvmeQueue::Open(ns, {.depth = 4});
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("io_uring_queue_init"), std::string::npos) << q.status();
  int after = ::dup(0);
  EXPECT_EQ(after, probe) << "a file descriptor leaked";
  ::close(after);
}

// Polled completions on a namespace without poll queues would still wait for
// interrupts: refused before any ring or device is opened, naming the fix.
TEST(NvmeQueue, PolledCompletionsNeedPollQueues) {
  cmb::Namespace ns;
  ns.name = "nvme3n1";
  ns.generic_device = "/nonexistent/ng3n1";
  ns.lba_size = 512;
  ns.capacity_blocks = 8;
  ns.io_poll = false;
  absl::StatusOr<cmb::NvmeQueue> q = cmb::NvmeQueue::Open(ns, {.depth = 4, .iopoll = true});
  ASSERT_FALSE(q.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(q.status())) << q.status();
  EXPECT_NE(q.status().message().find("nvme3n1 has no poll queues"), std::string::npos) << q.status();
  const std::vector<cmb::Fix> fixes = cmb::FixesOf(q.status());
  ASSERT_EQ(fixes.size(), 1u) << q.status();
  EXPECT_EQ(fixes[0], (cmb::Fix{.kind = cmb::Fix::Kind::kModuleParameter, .module = "nvme", .parameter = "poll_queues",
                                .value = "2"}));
}

}  // namespace
