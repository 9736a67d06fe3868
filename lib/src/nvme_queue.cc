#include "cmb/fix.h"
#include "cmb/nvme_queue.h"

#include "cmb/access_list.h"
#include "cmb/page.h"

#include <fcntl.h>
#include <liburing.h>
#include <linux/nvme_ioctl.h>
extern "C" {  // libnvme 1.3 headers lack C++ guards
#include <nvme/util.h>
}
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/dma_buffer.h"
#include "cmb/kernel_rules.h"
#include "nvme_status.h"
#include "command_queue.h"
#include "ring_reap.h"
#include "cmb/status_macros.h"

namespace cmb {

using internal::DecodeNvmeStatus;
using internal::NvmeStatusError;
using internal::ReapCompletions;
namespace {

constexpr uint8_t kOpFlush = 0x00;
constexpr uint8_t kOpWrite = 0x01;
constexpr uint8_t kOpRead = 0x02;
constexpr uint8_t kOpWriteZeroes = 0x08;
constexpr uint8_t kOpCopy = 0x19;

}  // namespace

struct NvmeQueue::Ring {
  io_uring ring{};
  bool live = false;  // io_uring_queue_init succeeded
  ~Ring() {
    if (live) io_uring_queue_exit(&ring);
  }
};

NvmeQueue::NvmeQueue(std::unique_ptr<Ring> ring, int fd, Namespace ns, unsigned depth,
                     std::optional<PciAddress> client)
    : ring_(std::move(ring)), fd_(fd), ns_(std::move(ns)), depth_(depth), client_(client), slots_(depth) {}

NvmeQueue::NvmeQueue(NvmeQueue&& o) noexcept
    : ring_(std::move(o.ring_)),
      fd_(std::exchange(o.fd_, -1)),
      ns_(std::move(o.ns_)),
      depth_(o.depth_),
      in_flight_(std::exchange(o.in_flight_, 0)),
      queued_(std::exchange(o.queued_, 0)),
      sqpoll_(o.sqpoll_),
      client_(o.client_),
      explain_(o.explain_),
      slots_(std::move(o.slots_)) {}

NvmeQueue& NvmeQueue::operator=(NvmeQueue&& o) noexcept {
  if (this != &o) {
    this->~NvmeQueue();
    new (this) NvmeQueue(std::move(o));
  }
  return *this;
}

NvmeQueue::~NvmeQueue() {
  // Commands still in flight own DMA into caller memory: reap them first,
  // through signals (a caller's SIGINT must not free a buffer mid-DMA).
  if (ring_ && in_flight_ + queued_ > 0) {
    if (queued_ > 0) {
      int rc = io_uring_submit(&ring_->ring);
      if (rc >= 0) in_flight_ += sqpoll_ ? queued_ : static_cast<unsigned>(rc);
      queued_ = 0;  // not submitted: the kernel never saw them, nothing to reap
    }
    ReapCompletions(&ring_->ring, std::exchange(in_flight_, 0));
  }
  ring_.reset();
  if (fd_ >= 0) ::close(fd_);
}

namespace internal {

absl::Status CheckQueueOptions(const Namespace& ns, const QueueOptions& options) {
  if (options.depth == 0 || options.depth > 4096)
    return absl::InvalidArgumentError(absl::StrCat("queue depth ", options.depth, " is not in 1..4096"));
  if (options.iopoll && !ns.io_poll)
    return WithFix(absl::FailedPreconditionError(absl::StrCat(
                       ns.name, " has no poll queues (queue/io_poll is 0), so polled completions would still ",
                       "wait for interrupts")),
                   {.kind = Fix::Kind::kModuleParameter, .module = "nvme", .parameter = "poll_queues", .value = "2"});
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<NvmeQueue> NvmeQueue::Open(const Namespace& ns, const QueueOptions& options,
                                          std::optional<PciAddress> client) {
  if (ns.generic_device.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        ns.name, " has no generic char device (/dev/ngXnY): NVMe passthrough needs Linux >= ",
        KernelSince::kPassthrough.ToString()));
  CMB_RETURN_IF_ERROR(internal::CheckQueueOptions(ns, options));
  auto ring = std::make_unique<Ring>();
  io_uring_params params{};
  params.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
  if (options.sqpoll) params.flags |= IORING_SETUP_SQPOLL, params.sq_thread_idle = 10;  // ms
  if (options.iopoll) params.flags |= IORING_SETUP_IOPOLL;
  int rc = io_uring_queue_init_params(options.depth, &ring->ring, &params);
  ring->live = rc == 0;
  if (rc < 0) {
    if (rc == -EINVAL && (options.sqpoll || options.iopoll))
      return absl::FailedPreconditionError(absl::StrCat(
          "io_uring refused a ", options.sqpoll ? "SQPOLL " : "", options.iopoll ? "IOPOLL " : "",
          "ring for NVMe passthrough (EINVAL): drop the polling option, or use a newer kernel"));
    if (rc == -EINVAL)
      return absl::FailedPreconditionError(absl::StrCat(
          "io_uring refused SQE128|CQE32 rings: NVMe passthrough needs Linux >= ", KernelSince::kPassthrough.ToString()));
    if (rc == -ENOSYS || rc == -EPERM)
      return absl::FailedPreconditionError(absl::StrCat(
          "io_uring is unavailable (", std::strerror(-rc),
          "): enable CONFIG_IO_URING, or check /proc/sys/kernel/io_uring_disabled"));
    return absl::ErrnoToStatus(-rc, "io_uring_queue_init");
  }
  io_uring_probe* probe = io_uring_get_probe_ring(&ring->ring);
  bool has_cmd = probe && io_uring_opcode_supported(probe, IORING_OP_URING_CMD);
  if (probe) io_uring_free_probe(probe);
  if (!has_cmd)
    return absl::FailedPreconditionError(
        absl::StrCat("io_uring lacks IORING_OP_URING_CMD: needs Linux >= ", KernelSince::kPassthrough.ToString()));
  absl::StatusOr<UniqueFd> fd = ns.root.Open(ns.generic_device, options.writable ? O_RDWR : O_RDONLY);
  if (!fd.ok()) {
    if (absl::IsPermissionDenied(fd.status()))
      return WithFix(absl::PermissionDeniedError(absl::StrCat(
                         "cannot open ", ns.generic_device, options.writable ? " for writing" : "",
                         ": permission denied: group '", AccessGroup(), "' gets only the namespaces that ",
                         DefaultAccessListPath(), " lists and that are not in use")),
                     {.kind = Fix::Kind::kGrantAccess, .device = ns.generic_device, .group = AccessGroup(),
                      .list = DefaultAccessListPath()});
    return fd.status();
  }
  NvmeQueue q(std::move(ring), fd->release(), ns, options.depth, client);
  q.sqpoll_ = options.sqpoll;
  q.explain_ = options.explain;
  return q;
}

absl::Status NvmeQueue::CheckRange(uint64_t slba, uint32_t nlb) const {
  if (nlb == 0) return absl::InvalidArgumentError("a command needs at least 1 LBA");
  if (nlb > 65536) return absl::InvalidArgumentError(absl::StrCat(nlb, " LBAs exceed NVMe's 65536 per command"));
  if (slba >= ns_.capacity_blocks || ns_.capacity_blocks - slba < nlb)
    return absl::OutOfRangeError(absl::StrFormat("LBAs %u..%u are beyond the end of %s (%u LBAs)", slba,
                                                 slba + nlb - 1, ns_.name, ns_.capacity_blocks));
  return absl::OkStatus();
}

absl::Status NvmeQueue::CheckBuffer(const void* buf, uint64_t bytes) const {
  const uintptr_t kPage = static_cast<uintptr_t>(PageBytes());
  if (buf == nullptr) return absl::InvalidArgumentError("null data buffer");
  if (reinterpret_cast<uintptr_t>(buf) % kPage != 0)
    return absl::InvalidArgumentError(absl::StrFormat(
        "data buffer %p is not page aligned: the kernel would bounce it through host memory instead of "
        "DMA (blk_rq_map_user_iov)", buf));
  if (ns_.max_transfer_bytes && bytes > ns_.max_transfer_bytes)
    return absl::InvalidArgumentError(absl::StrFormat("%u bytes exceed the max transfer of %s (%u bytes)", bytes,
                                                      ns_.name, ns_.max_transfer_bytes));
  return absl::OkStatus();
}

absl::Status NvmeQueue::Queue(uint8_t opcode, uint64_t slba, uint32_t nlb, const void* buf, uint64_t bytes,
                              uint64_t tag, std::optional<PciAddress> provider, const CopyRange* copy_range) {
  if (in_flight_ + queued_ >= depth_)
    return absl::ResourceExhaustedError(absl::StrCat("queue full (depth ", depth_, "): wait for completions"));
  unsigned slot = 0;
  while (slots_[slot].busy) ++slot;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
  if (sqe == nullptr) return absl::ResourceExhaustedError("no free submission entry");
  if (copy_range != nullptr) {
    // The descriptor must live until completion: keep it in the slot.
    slots_[slot].copy_range = *copy_range;
    buf = slots_[slot].copy_range.data();
    bytes = copy_range->size();
  }
  std::memset(sqe, 0, 2 * sizeof(io_uring_sqe));  // SQE128
  sqe->opcode = IORING_OP_URING_CMD;
  sqe->fd = fd_;
  sqe->cmd_op = NVME_URING_CMD_IO;
  sqe->user_data = slot;
  auto* cmd = reinterpret_cast<nvme_uring_cmd*>(sqe->cmd);
  cmd->opcode = opcode;
  cmd->nsid = ns_.nsid;
  cmd->addr = reinterpret_cast<uintptr_t>(buf);
  cmd->data_len = static_cast<uint32_t>(bytes);
  if (opcode != kOpFlush) {
    cmd->cdw10 = static_cast<uint32_t>(slba);
    cmd->cdw11 = static_cast<uint32_t>(slba >> 32);
    cmd->cdw12 = nlb - 1;  // for Copy: number of ranges - 1, format 0
  }
  slots_[slot].busy = true;
  slots_[slot].tag = tag;
  slots_[slot].provider = provider;
  ++queued_;
  return absl::OkStatus();
}

absl::Status NvmeQueue::QueueData(uint8_t opcode, uint64_t slba, const DmaSpan& buf, uint64_t tag) {
  if (buf.empty()) return absl::InvalidArgumentError("empty data buffer: a command needs at least 1 LBA");
  if (buf.size() % ns_.lba_size != 0)
    return absl::InvalidArgumentError(absl::StrFormat("a %u-byte data buffer is not a whole number of %s's %u-byte LBAs",
                                                      buf.size(), ns_.name, ns_.lba_size));
  if (buf.size() / ns_.lba_size > 65536)
    return absl::InvalidArgumentError(absl::StrCat(buf.size() / ns_.lba_size, " LBAs exceed NVMe's 65536 per command"));
  uint32_t nlb = static_cast<uint32_t>(buf.size() / ns_.lba_size);
  CMB_RETURN_IF_ERROR(CheckRange(slba, nlb));
  CMB_RETURN_IF_ERROR(CheckBuffer(buf.data(), buf.size()));
  return Queue(opcode, slba, nlb, buf.data(), buf.size(), tag, buf.provider());
}

absl::Status NvmeQueue::Read(uint64_t slba, const DmaSpan& buf, uint64_t tag) {
  return QueueData(kOpRead, slba, buf, tag);
}

absl::Status NvmeQueue::Write(uint64_t slba, const DmaSpan& buf, uint64_t tag) {
  return QueueData(kOpWrite, slba, buf, tag);
}

absl::Status NvmeQueue::Flush(uint64_t tag) { return Queue(kOpFlush, 0, 1, nullptr, 0, tag, std::nullopt); }

absl::Status NvmeQueue::WriteZeroes(uint64_t slba, uint32_t nlb, uint64_t tag) {
  CMB_RETURN_IF_ERROR(CheckRange(slba, nlb));
  return Queue(kOpWriteZeroes, slba, nlb, nullptr, 0, tag, std::nullopt);
}

absl::Status NvmeQueue::Copy(uint64_t src_slba, uint32_t nlb, uint64_t dst_slba, uint64_t tag) {
  CMB_RETURN_IF_ERROR(CheckRange(src_slba, nlb));
  CMB_RETURN_IF_ERROR(CheckRange(dst_slba, nlb));
  // Source Range Entry format 0 (32 bytes): SLBA at byte 8, NLB-1 at byte 16.
  CopyRange range{};
  std::memcpy(range.data() + 8, &src_slba, 8);
  uint16_t n = static_cast<uint16_t>(nlb - 1);
  std::memcpy(range.data() + 16, &n, 2);
  // cdw10-11: destination SLBA; one range.
  return Queue(kOpCopy, dst_slba, 1, nullptr, 0, tag, std::nullopt, &range);
}

absl::StatusOr<unsigned> NvmeQueue::Submit() {
  if (queued_ == 0) return 0u;
  int rc = io_uring_submit(&ring_->ring);
  if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_submit");
  // Under SQPOLL, io_uring_submit counts every entry the kernel thread has
  // not taken yet, earlier ones too; all queued ones are the kernel's now.
  unsigned n = sqpoll_ ? queued_ : static_cast<unsigned>(rc);
  in_flight_ += n;
  queued_ -= std::min(queued_, n);
  return n;
}

// Without an explainer: the errno or the NVMe status, and the device.
static absl::Status PlainFailure(int32_t res, const Namespace& ns) {
  if (res < 0) return absl::ErrnoToStatus(-res, absl::StrCat("NVMe passthrough on ", ns.generic_device));
  return NvmeStatusError(res, ns.generic_device);
}

Completion NvmeQueue::Decode(const void* p) {
  auto* cqe = static_cast<const io_uring_cqe*>(p);
  unsigned slot = static_cast<unsigned>(cqe->user_data);
  Completion c;
  c.res = cqe->res;
  c.result = cqe->big_cqe[0];
  c.nvme = DecodeNvmeStatus(c.res);
  if (slot < slots_.size()) {
    c.tag = slots_[slot].tag;
    if (c.res == 0) c.status = absl::OkStatus();
    else if (explain_) c.status = explain_(c.res, ns_, IoContext{client_, slots_[slot].provider});
    else c.status = PlainFailure(c.res, ns_);
    slots_[slot].busy = false;
  } else {
    c.status = absl::InternalError("completion for an unknown slot");
  }
  return c;
}

absl::StatusOr<Completion> NvmeQueue::Wait(std::optional<std::chrono::milliseconds> timeout) {
  if (queued_ > 0) CMB_RETURN_IF_ERROR(Submit().status());
  if (in_flight_ == 0) return absl::FailedPreconditionError("no command in flight to wait for");
  io_uring_cqe* cqe = nullptr;
  int rc;
  do {
    if (timeout) {
      __kernel_timespec ts{};
      ts.tv_sec = timeout->count() / 1000;
      ts.tv_nsec = (timeout->count() % 1000) * 1000000;
      rc = io_uring_wait_cqe_timeout(&ring_->ring, &cqe, &ts);
    } else {
      rc = io_uring_wait_cqe(&ring_->ring, &cqe);
    }
  } while (rc == -EINTR);
  if (rc == -ETIME)
    return absl::DeadlineExceededError(absl::StrCat("no completion from ", ns_.generic_device, " within ",
                                                    timeout->count(), " ms"));
  if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_wait_cqe");
  Completion c = Decode(cqe);
  io_uring_cqe_seen(&ring_->ring, cqe);
  --in_flight_;
  return c;
}

std::vector<Completion> NvmeQueue::Poll() {
  std::vector<Completion> out;
  io_uring_cqe* cqe = nullptr;
  while (in_flight_ > 0 && io_uring_peek_cqe(&ring_->ring, &cqe) == 0) {
    out.push_back(Decode(cqe));
    io_uring_cqe_seen(&ring_->ring, cqe);
    --in_flight_;
  }
  return out;
}

absl::Status NvmeQueue::NotifyEventFd(int eventfd) {
  int rc = io_uring_register_eventfd(&ring_->ring, eventfd);
  if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_register_eventfd");
  return absl::OkStatus();
}

}  // namespace cmb
