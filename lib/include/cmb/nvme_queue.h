// NvmeQueue: NVMe I/O commands through io_uring passthrough
// (IORING_OP_URING_CMD with NVME_URING_CMD_IO on /dev/ngXnY, SQE128|CQE32),
// with data buffers in P2P or host memory. One queue per thread; a queue is
// not thread-safe, and needs no locking when used by one thread.
//
//   absl::StatusOr<cmb::NvmeQueue> q = cmb::NvmeQueue::Open(ns, {.depth = 32, .writable = true});
//   CMB_RETURN_IF_ERROR(q->Read(slba, buf->span(), /*tag=*/7));  // buf: a DmaBuffer
//   q->Submit();
//   absl::StatusOr<cmb::Completion> c = q->Wait();   // c->status explains failures
//
// Data buffers are DmaSpans (dma_buffer.h): a command moves exactly the
// span's bytes, which must be a whole number of LBAs, so it cannot DMA past
// its buffer, and the span names its CMB for error explanations. Spans must
// be page aligned and at most the namespace's max transfer: otherwise the
// kernel would silently copy through a bounce buffer (blk_rq_map_user_iov)
// and the DMA would not be P2P. The queue refuses such buffers before
// submission. A buffer must outlive the commands using it: the destructor
// waits for every command in flight, so declare buffers before queues.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/discovery.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_status.h"
#include "cmb/pci_address.h"

namespace cmb {

// What is known about the buffer's provider, for explaining -EREMOTEIO.
struct IoContext {
  std::optional<PciAddress> client;    // the controller doing the DMA
  std::optional<PciAddress> provider;  // the CMB holding the buffer, if P2P
  bool block = false;                  // on the block device (O_DIRECT), not passthrough on ngXnY
};

// Turns a failed command's raw result (Completion::res) into its status.
using ExplainFn = absl::Status (*)(int32_t res, const Namespace& ns, const IoContext& ctx);
// The library's (io_failure.h): by the running kernel's rules and the P2P
// path's prediction. Declared here only to be the default below.
absl::Status ExplainIoFailure(int32_t res, const Namespace& ns, const IoContext& ctx);

struct QueueOptions {
  unsigned depth = 32;     // in-flight commands at most
  bool writable = false;   // open the device for writing (needed for Write, Flush, ...)
  // IORING_SETUP_SQPOLL (fio's --sqthread_poll): a kernel thread of this
  // process picks up submissions, so Submit() makes no system call while it
  // is awake; it sleeps after 10 ms without work and costs CPU while it spins.
  bool sqpoll = false;
  // IORING_SETUP_IOPOLL (fio's --hipri): completions are polled from the
  // namespace's poll queues instead of interrupts: Poll() reaps what one pass
  // of polling finds, Wait() polls until a completion comes, and the
  // NotifyEventFd eventfd is signalled only when such polling posts one, so a
  // caller waiting on it alone may wait for ever (Copier spins instead). Needs poll
  // queues (Namespace::io_poll): Open refuses without them and says how.
  bool iopoll = false;
  // How failures are explained; nullptr: the errno or NVMe status alone.
  // The queue itself reads nothing to explain them.
  ExplainFn explain = &ExplainIoFailure;
};

struct Completion {
  uint64_t tag = 0;    // the caller's tag from submission
  int32_t res = 0;     // raw: <0 errno, >0 NVMe status (SCT<<8 | SC, DNR 0x4000), 0 ok
  uint64_t result = 0; // NVMe completion dword 0/1
  // res explained. For an NVMe status (res > 0) the code says what it means,
  // so callers can branch without decoding: kUnavailable for a temporary
  // condition with DNR clear (retry later), and one code per status
  // otherwise; docs/troubleshooting.md has the table, generated from the
  // library's own.
  absl::Status status;
  using NvmeStatus = ::cmb::NvmeStatus;  // nvme_status.h
  std::optional<NvmeStatus> nvme;  // set when res > 0
};

class NvmeQueue {
 public:
  // Probes io_uring (SQE128|CQE32, IORING_OP_URING_CMD) and opens the
  // namespace's generic device.
  static absl::StatusOr<NvmeQueue> Open(const Namespace& ns, const QueueOptions& options,
                                        std::optional<PciAddress> client = std::nullopt);
  NvmeQueue(NvmeQueue&&) noexcept;
  NvmeQueue& operator=(NvmeQueue&&) noexcept;
  ~NvmeQueue();

  // Queue a command (not yet submitted) that moves buf.size() bytes, a whole
  // number of LBAs, starting at LBA slba; fails when the queue is full or the
  // request is invalid.
  absl::Status Read(uint64_t slba, const DmaSpan& buf, uint64_t tag);
  absl::Status Write(uint64_t slba, const DmaSpan& buf, uint64_t tag);
  absl::Status Flush(uint64_t tag);
  absl::Status WriteZeroes(uint64_t slba, uint32_t nlb, uint64_t tag);
  // NVMe Copy (single source range) within this namespace; needs ONCS bit 8.
  absl::Status Copy(uint64_t src_slba, uint32_t nlb, uint64_t dst_slba, uint64_t tag);

  // Hands queued commands to the kernel; returns how many.
  absl::StatusOr<unsigned> Submit();
  // Waits for one completion (submitting first if needed). With a timeout,
  // DeadlineExceeded when none arrived in time.
  absl::StatusOr<Completion> Wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Completions already available, without waiting.
  std::vector<Completion> Poll();
  // Signals `eventfd` on every completion, so one thread can wait on several
  // queues with poll(2) (io_uring_register_eventfd).
  absl::Status NotifyEventFd(int eventfd);

  unsigned in_flight() const { return in_flight_; }
  unsigned queued() const { return queued_; }
  unsigned depth() const { return depth_; }
  const Namespace& ns() const { return ns_; }

  // Explains a raw completion result (ExplainIoFailure, io_failure.h).
  static absl::Status Explain(int32_t res, const Namespace& ns, const IoContext& ctx) {
    return ExplainIoFailure(res, ns, ctx);
  }

 private:
  struct Ring;
  NvmeQueue(std::unique_ptr<Ring> ring, int fd, Namespace ns, unsigned depth, std::optional<PciAddress> client);
  absl::Status CheckRange(uint64_t slba, uint32_t nlb) const;
  absl::Status CheckBuffer(const void* buf, uint64_t bytes) const;
  using CopyRange = std::array<uint8_t, 32>;  // NVMe Copy source range entry
  absl::Status Queue(uint8_t opcode, uint64_t slba, uint32_t nlb, const void* buf, uint64_t bytes, uint64_t tag,
                     std::optional<PciAddress> provider, const CopyRange* copy_range = nullptr);
  // Read/Write: range and buffer checks, then Queue().
  absl::Status QueueData(uint8_t opcode, uint64_t slba, const DmaSpan& buf, uint64_t tag);
  Completion Decode(const void* cqe);

  std::unique_ptr<Ring> ring_;
  int fd_ = -1;
  Namespace ns_;
  unsigned depth_ = 0;
  unsigned in_flight_ = 0;  // submitted, not completed
  unsigned queued_ = 0;     // prepared, not submitted
  bool sqpoll_ = false;
  std::optional<PciAddress> client_;
  ExplainFn explain_ = nullptr;
  // Per slot: tag and the provider for error explanations.
  struct Slot {
    uint64_t tag = 0;
    std::optional<PciAddress> provider;
    bool busy = false;
    alignas(64) CopyRange copy_range{};  // kept until the Copy completes
  };
  std::vector<Slot> slots_;
};

}  // namespace cmb
