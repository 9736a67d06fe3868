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

absl::StatusOr<UniqueFd> OpenDirect(const Namespace& ns, bool writable) {
  absl::StatusOr<UniqueFd> fd = ns.root.Open(ns.block_device, (writable ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
  if (fd.ok() || !absl::IsPermissionDenied(fd.status())) return fd;
  // The access list grants generic nodes only: passthrough is the way in.
  return WithFix(absl::PermissionDeniedError(absl::StrCat(
                     "cannot open ", ns.block_device, writable ? " for writing" : "",
                     ": permission denied (block devices are root's and group disk's; group '", AccessGroup(),
                     "' is granted only generic nodes such as ", ns.generic_device, ")")),
                 SetOption(Fix::Option::kPath, "passthrough"));
}

}  // namespace

// The ring: `depth` entries, polled or with a submission thread as asked.
absl::Status BlockQueue::Ring::Init(const QueueOptions& o) {
  io_uring_params params{};
  if (o.sqpoll) params.flags |= IORING_SETUP_SQPOLL, params.sq_thread_idle = 10;  // ms
  if (o.iopoll) params.flags |= IORING_SETUP_IOPOLL;
  const int rc = io_uring_queue_init_params(o.depth, &ring, &params);
  live = rc == 0;
  sqpoll = o.sqpoll;
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

BlockQueue::Ring::~Ring() {
  if (!live) return;
  // Commands in flight still DMA into caller memory: reap them, through signals.
  if (queued > 0) {
    const int rc = io_uring_submit(&ring);
    if (rc >= 0) in_flight += sqpoll ? queued : static_cast<unsigned>(rc);
    queued = 0;  // the kernel never saw the rest: nothing to reap
  }
  ReapCompletions(&ring, std::exchange(in_flight, 0));
  io_uring_queue_exit(&ring);
}

absl::StatusOr<unsigned> BlockQueue::Ring::Submit() {
  if (queued == 0) return 0u;
  const int rc = io_uring_submit(&ring);
  if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_submit");
  const unsigned n = sqpoll ? queued : static_cast<unsigned>(rc);  // as NvmeQueue::Submit
  in_flight += n;
  queued -= std::min(queued, n);
  return n;
}


BlockQueue::BlockQueue(Namespace ns, UniqueFd fd, unsigned depth, std::optional<PciAddress> client, ExplainFn explain)
    : ns_(std::move(ns)), fd_(std::move(fd)), depth_(depth), client_(client), explain_(explain), slots_(new Slot[depth]()) {}

absl::StatusOr<std::unique_ptr<BlockQueue>> BlockQueue::Open(const Namespace& ns, const QueueOptions& options,
                                                            std::optional<PciAddress> client) {
  if (ns.block_device.empty()) return absl::FailedPreconditionError(absl::StrCat(ns.name, " has no block device"));
  CMB_RETURN_IF_ERROR(CheckQueueOptions(ns, options));
  CMB_ASSIGN_OR_RETURN(UniqueFd fd, OpenDirect(ns, options.writable));
  std::unique_ptr<BlockQueue> q(new BlockQueue(ns, std::move(fd), options.depth, client, options.explain));
  CMB_RETURN_IF_ERROR(q->data_.Init(options));
  if (options.iopoll) {
    q->flush_ = std::make_unique<Ring>();
    CMB_RETURN_IF_ERROR(q->flush_->Init({.depth = 2, .sqpoll = options.sqpoll}));
  }
  return q;
}

BlockQueue::~BlockQueue() = default;

absl::Status BlockQueue::Queue(bool write, uint64_t slba, const DmaSpan* buf, uint64_t tag) {
  if (in_flight() + queued() >= depth_)
    return absl::ResourceExhaustedError(absl::StrCat("queue full (depth ", depth_, "): wait for completions"));
  Ring& r = buf == nullptr && flush_ ? *flush_ : data_;
  io_uring_sqe* sqe = io_uring_get_sqe(&r.ring);
  if (sqe == nullptr) return absl::ResourceExhaustedError("no free submission entry");
  unsigned slot = 0;
  while (slots_[slot].busy) ++slot;
  if (buf == nullptr) io_uring_prep_fsync(sqe, fd_.get(), 0);
  else if (write) io_uring_prep_write(sqe, fd_.get(), buf->data(), static_cast<unsigned>(buf->size()), slba * ns_.lba_size);
  else io_uring_prep_read(sqe, fd_.get(), buf->data(), static_cast<unsigned>(buf->size()), slba * ns_.lba_size);
  io_uring_sqe_set_data64(sqe, slot);
  slots_[slot] = {.tag = tag, .bytes = buf ? buf->size() : 0, .write = write,
                  .provider = buf ? buf->provider() : std::nullopt, .busy = true};
  ++r.queued;
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
  CMB_ASSIGN_OR_RETURN(unsigned n, data_.Submit());
  if (!flush_) return n;
  CMB_ASSIGN_OR_RETURN(unsigned f, flush_->Submit());
  return n + f;
}

Completion BlockQueue::Decode(const io_uring_cqe& cqe) {
  Completion c;
  const uint64_t slot = io_uring_cqe_get_data64(&cqe);
  if (slot >= depth_ || !slots_[slot].busy) {
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

void BlockQueue::Reap(Ring& r, std::vector<Completion>& out) {
  io_uring_cqe* cqe = nullptr;
  while (r.in_flight > 0 && io_uring_peek_cqe(&r.ring, &cqe) == 0) {
    out.push_back(Decode(*cqe));
    io_uring_cqe_seen(&r.ring, cqe);
    --r.in_flight;
  }
}

std::vector<Completion> BlockQueue::Poll() {
  std::vector<Completion> out;
  Reap(data_, out);
  if (flush_) Reap(*flush_, out);
  return out;
}

absl::StatusOr<Completion> BlockQueue::Wait(std::chrono::milliseconds timeout) {
  if (flush_) return absl::UnimplementedError("Wait on a polled block queue: use Poll");
  if (data_.queued > 0) CMB_RETURN_IF_ERROR(Submit().status());
  if (data_.in_flight == 0) return absl::FailedPreconditionError("no command in flight to wait for");
  __kernel_timespec ts{.tv_sec = timeout.count() / 1000, .tv_nsec = (timeout.count() % 1000) * 1000000};
  io_uring_cqe* cqe = nullptr;
  int rc;
  do rc = io_uring_wait_cqe_timeout(&data_.ring, &cqe, &ts);
  while (rc == -EINTR);
  if (rc == -ETIME)
    return absl::DeadlineExceededError(absl::StrCat("no completion from ", ns_.block_device, " within ",
                                                    timeout.count(), " ms"));
  if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_wait_cqe");
  Completion c = Decode(*cqe);
  io_uring_cqe_seen(&data_.ring, cqe);
  --data_.in_flight;
  return c;
}

absl::Status BlockQueue::NotifyEventFd(int eventfd) {
  for (Ring* r : {&data_, flush_.get()}) {
    if (r == nullptr) continue;
    const int rc = io_uring_register_eventfd(&r->ring, eventfd);
    if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_register_eventfd");
  }
  return absl::OkStatus();
}

}  // namespace cmb::internal
