#include "block_queue.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/access_list.h"
#include "cmb/fix.h"
#include "cmb/page.h"
#include "cmb/status_macros.h"
#include "ring_reap.h"

namespace cmb::internal {
namespace {

// The ring: `depth` entries, polled or with a submission thread as asked.
absl::Status InitRing(io_uring& ring, const QueueOptions& o) {
  io_uring_params params{};
  if (o.sqpoll) params.flags |= IORING_SETUP_SQPOLL, params.sq_thread_idle = 10;  // ms
  if (o.iopoll) params.flags |= IORING_SETUP_IOPOLL;
  const int rc = io_uring_queue_init_params(o.depth, &ring, &params);
  if (rc == 0) return absl::OkStatus();
  if (rc == -EINVAL && (o.sqpoll || o.iopoll))
    return absl::FailedPreconditionError(absl::StrCat("io_uring refused a ", o.sqpoll ? "SQPOLL " : "",
                                                      o.iopoll ? "IOPOLL " : "",
                                                      "ring (EINVAL): drop the polling option, or use a newer kernel"));
  if (rc == -ENOSYS || rc == -EPERM)
    return absl::FailedPreconditionError(absl::StrCat("io_uring is unavailable (", std::strerror(-rc),
                                                      "): enable CONFIG_IO_URING, or check "
                                                      "/proc/sys/kernel/io_uring_disabled"));
  return absl::ErrnoToStatus(-rc, "io_uring_queue_init");
}

absl::StatusOr<UniqueFd> OpenDirect(const Namespace& ns, bool writable) {
  absl::StatusOr<UniqueFd> fd = ns.root.Open(ns.block_device, (writable ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
  if (fd.ok() || !absl::IsPermissionDenied(fd.status())) return fd;
  return WithFix(absl::PermissionDeniedError(absl::StrCat(
                     "cannot open ", ns.block_device, writable ? " for writing" : "", ": permission denied: group '",
                     AccessGroup(), "' gets only the namespaces that ", DefaultAccessListPath(),
                     " lists and that are not in use")),
                 {.kind = Fix::Kind::kGrantAccess, .device = ns.block_device, .group = AccessGroup(),
                  .list = DefaultAccessListPath()});
}

}  // namespace

BlockQueue::BlockQueue(Namespace ns, UniqueFd fd, unsigned depth, std::optional<PciAddress> client, ExplainFn explain)
    : ns_(std::move(ns)), fd_(std::move(fd)), depth_(depth), client_(client), explain_(explain), slots_(depth) {}

absl::StatusOr<std::unique_ptr<BlockQueue>> BlockQueue::Open(const Namespace& ns, const QueueOptions& options,
                                                            std::optional<PciAddress> client) {
  if (ns.block_device.empty()) return absl::FailedPreconditionError(absl::StrCat(ns.name, " has no block device"));
  if (options.depth == 0 || options.depth > 4096)
    return absl::InvalidArgumentError(absl::StrCat("queue depth ", options.depth, " is not in 1..4096"));
  if (options.iopoll && !ns.io_poll)
    return WithFix(absl::FailedPreconditionError(absl::StrCat(
                       ns.name, " has no poll queues (queue/io_poll is 0), so polled completions would still ",
                       "wait for interrupts")),
                   {.kind = Fix::Kind::kModuleParameter, .module = "nvme", .parameter = "poll_queues", .value = "2"});
  CMB_ASSIGN_OR_RETURN(UniqueFd fd, OpenDirect(ns, options.writable));
  std::unique_ptr<BlockQueue> q(new BlockQueue(ns, std::move(fd), options.depth, client, options.explain));
  CMB_RETURN_IF_ERROR(InitRing(q->ring_, options));
  q->ring_live_ = true;
  q->sqpoll_ = options.sqpoll;
  return q;
}

BlockQueue::~BlockQueue() {
  if (!ring_live_) return;
  // Commands in flight still DMA into caller memory: reap them, through signals.
  if (queued_ > 0) {
    const int rc = io_uring_submit(&ring_);
    if (rc >= 0) in_flight_ += sqpoll_ ? queued_ : static_cast<unsigned>(rc);
    queued_ = 0;  // the kernel never saw the rest: nothing to reap
  }
  ReapCompletions(&ring_, std::exchange(in_flight_, 0));
  io_uring_queue_exit(&ring_);
}

absl::Status BlockQueue::Queue(bool write, uint64_t slba, const DmaSpan* buf, uint64_t tag) {
  if (in_flight_ + queued_ >= depth_)
    return absl::ResourceExhaustedError(absl::StrCat("queue full (depth ", depth_, "): wait for completions"));
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return absl::ResourceExhaustedError("no free submission entry");
  unsigned slot = 0;
  while (slots_[slot].busy) ++slot;
  if (buf == nullptr) io_uring_prep_fsync(sqe, fd_.get(), 0);
  else if (write) io_uring_prep_write(sqe, fd_.get(), buf->data(), static_cast<unsigned>(buf->size()), slba * ns_.lba_size);
  else io_uring_prep_read(sqe, fd_.get(), buf->data(), static_cast<unsigned>(buf->size()), slba * ns_.lba_size);
  io_uring_sqe_set_data64(sqe, slot);
  slots_[slot] = {.tag = tag, .bytes = buf ? buf->size() : 0, .write = write,
                  .provider = buf ? buf->provider() : std::nullopt, .busy = true};
  ++queued_;
  return absl::OkStatus();
}

// A data command's checks: whole LBAs inside the namespace, a page-aligned
// buffer (O_DIRECT's rule, and the kernel's bounce otherwise).
static absl::Status CheckData(const Namespace& ns, uint64_t slba, const DmaSpan& buf) {
  if (buf.empty()) return absl::InvalidArgumentError("empty data buffer: a command needs at least 1 LBA");
  if (buf.size() % ns.lba_size != 0)
    return absl::InvalidArgumentError(absl::StrFormat("a %u-byte data buffer is not a whole number of %s's %u-byte LBAs",
                                                      buf.size(), ns.name, ns.lba_size));
  if (buf.size() > UINT32_MAX / 2) return absl::InvalidArgumentError("a data buffer over 2 GiB");
  const uint64_t nlb = buf.size() / ns.lba_size;
  if (slba >= ns.capacity_blocks || ns.capacity_blocks - slba < nlb)
    return absl::OutOfRangeError(absl::StrFormat("LBAs %u..%u are beyond the end of %s (%u LBAs)", slba, slba + nlb - 1,
                                                 ns.name, ns.capacity_blocks));
  if (reinterpret_cast<uintptr_t>(buf.data()) % PageBytes() != 0)
    return absl::InvalidArgumentError(absl::StrFormat("data buffer %p is not page aligned", buf.data()));
  return absl::OkStatus();
}

absl::Status BlockQueue::Read(uint64_t slba, const DmaSpan& buf, uint64_t tag) {
  CMB_RETURN_IF_ERROR(CheckData(ns_, slba, buf));
  return Queue(false, slba, &buf, tag);
}

absl::Status BlockQueue::Write(uint64_t slba, const DmaSpan& buf, uint64_t tag) {
  CMB_RETURN_IF_ERROR(CheckData(ns_, slba, buf));
  return Queue(true, slba, &buf, tag);
}

absl::Status BlockQueue::Flush(uint64_t tag) { return Queue(true, 0, nullptr, tag); }

absl::Status BlockQueue::Copy(uint64_t, uint32_t, uint64_t, uint64_t) {
  return absl::UnimplementedError(absl::StrCat("NVMe Copy on ", ns_.name, " needs passthrough, not its block device"));
}

absl::StatusOr<unsigned> BlockQueue::Submit() {
  if (queued_ == 0) return 0u;
  const int rc = io_uring_submit(&ring_);
  if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_submit");
  const unsigned n = sqpoll_ ? queued_ : static_cast<unsigned>(rc);  // as NvmeQueue::Submit
  in_flight_ += n;
  queued_ -= std::min(queued_, n);
  return n;
}

Completion BlockQueue::Decode(const io_uring_cqe& cqe) {
  Completion c;
  const uint64_t slot = io_uring_cqe_get_data64(&cqe);
  if (slot >= slots_.size() || !slots_[slot].busy) {
    c.status = absl::InternalError("completion for an unknown slot");
    return c;
  }
  Slot& s = slots_[slot];
  s.busy = false;
  c.tag = s.tag;
  c.res = cqe.res;
  if (cqe.res < 0) {
    c.status = explain_ ? explain_(cqe.res, ns_, IoContext{client_, s.provider, /*block=*/true})
                        : absl::ErrnoToStatus(-cqe.res, absl::StrCat("O_DIRECT I/O on ", ns_.block_device));
  } else if (static_cast<uint64_t>(cqe.res) != s.bytes) {
    // Never a positive res: that would read as an NVMe status.
    c.res = -EIO;
    const std::string what = absl::StrFormat("%s %s moved %d of %u bytes", s.write ? "a write to" : "a read of",
                                             ns_.block_device, cqe.res, s.bytes);
    c.status = s.write ? absl::InternalError(absl::StrCat(what, ": a short write"))
                       : absl::DataLossError(absl::StrCat(what, ": a short read"));
  } else {
    c.res = 0;  // whole: as a passthrough success
    c.status = absl::OkStatus();
  }
  return c;
}

std::vector<Completion> BlockQueue::Poll() {
  std::vector<Completion> out;
  io_uring_cqe* cqe = nullptr;
  while (in_flight_ > 0 && io_uring_peek_cqe(&ring_, &cqe) == 0) {
    out.push_back(Decode(*cqe));
    io_uring_cqe_seen(&ring_, cqe);
    --in_flight_;
  }
  return out;
}

absl::StatusOr<Completion> BlockQueue::Wait(std::chrono::milliseconds timeout) {
  if (queued_ > 0) CMB_RETURN_IF_ERROR(Submit().status());
  if (in_flight_ == 0) return absl::FailedPreconditionError("no command in flight to wait for");
  __kernel_timespec ts{.tv_sec = timeout.count() / 1000, .tv_nsec = (timeout.count() % 1000) * 1000000};
  io_uring_cqe* cqe = nullptr;
  int rc;
  do rc = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
  while (rc == -EINTR);
  if (rc == -ETIME)
    return absl::DeadlineExceededError(absl::StrCat("no completion from ", ns_.block_device, " within ",
                                                    timeout.count(), " ms"));
  if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_wait_cqe");
  Completion c = Decode(*cqe);
  io_uring_cqe_seen(&ring_, cqe);
  --in_flight_;
  return c;
}

absl::Status BlockQueue::NotifyEventFd(int eventfd) {
  const int rc = io_uring_register_eventfd(&ring_, eventfd);
  if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_register_eventfd");
  return absl::OkStatus();
}

}  // namespace cmb::internal
