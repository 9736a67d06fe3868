// BlockQueue: the block-device data path. Reads and writes go to the
// namespace's block device (/dev/nvmeXnY) opened with O_DIRECT, through
// io_uring IORING_OP_READ and IORING_OP_WRITE, and a flush is IORING_OP_FSYNC;
// the path p2pmem-test and fio take. The passthrough queue (NvmeQueue) is the
// other path; the copy machine sees both as a CommandQueue.
//
//   CMB_ASSIGN_OR_RETURN(std::unique_ptr<BlockQueue> q, BlockQueue::Open(ns, {.depth = 17, .writable = true}, client));
//   CMB_RETURN_IF_ERROR(q->Write(slba, span, tag));   // span: P2P or host memory
//   q->Submit();  ...  for (const Completion& c : q->Poll()) ...
//
// Why a second path: the block layer picks PRPs or SGLs by its own rule
// (sgl_threshold), where 7.3 forces SGLs with the list in host memory on
// user passthrough, so a controller reading its own CMB takes whole chunks
// here and one page through passthrough (kernel_rules.h). What it cannot do:
// NVMe Copy (Copy is Unimplemented) and metadata.
//
// O_DIRECT writes invalidate the block device's page cache over their range
// (the kernel's blkdev_direct_write), so readers of /dev/nvmeXnY see the new
// data. A command moves exactly its span or fails: a short transfer is an
// error (DataLoss for a read, Internal for a write), never a partial success.
#pragma once

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cmb/discovery.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_queue.h"
#include "cmb/pci_address.h"
#include "cmb/unique_fd.h"
#include "command_queue.h"

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

class __attribute__((visibility("hidden"))) BlockQueue final : public CommandQueue {
 public:
  // Opens ns.block_device with O_DIRECT (O_RDWR when options.writable) and a
  // ring of options.depth entries. options.iopoll needs poll queues, as for
  // passthrough; options.explain explains failed commands.
  static absl::StatusOr<std::unique_ptr<BlockQueue>> Open(const Namespace& ns, const QueueOptions& options,
                                                          std::optional<PciAddress> client = std::nullopt);
  ~BlockQueue() override;
  BlockQueue(const BlockQueue&) = delete;
  BlockQueue& operator=(const BlockQueue&) = delete;

  absl::Status Read(uint64_t slba, const DmaSpan& buf, uint64_t tag) override;
  absl::Status Write(uint64_t slba, const DmaSpan& buf, uint64_t tag) override;
  absl::Status Flush(uint64_t tag) override;
  absl::Status Copy(uint64_t src_slba, uint32_t nlb, uint64_t dst_slba, uint64_t tag) override;
  absl::StatusOr<unsigned> Submit() override;
  std::vector<Completion> Poll() override;
  // Waits up to `timeout` for one completion, submitting first if needed;
  // DeadlineExceeded when none came.
  absl::StatusOr<Completion> Wait(std::chrono::milliseconds timeout);
  unsigned in_flight() const override { return data_.in_flight + (flush_ ? flush_->in_flight : 0); }
  unsigned queued() const override { return data_.queued + (flush_ ? flush_->queued : 0); }
  // Signals `eventfd` on every completion (io_uring_register_eventfd).
  absl::Status NotifyEventFd(int eventfd);
  const Namespace& ns() const { return ns_; }

 private:
  struct Slot {
    uint64_t tag = 0;
    uint64_t bytes = 0;  // what the command must move; 0 for a flush
    bool write = false;
    std::optional<PciAddress> provider;
    bool busy = false;
  };
  // One io_uring and its counts; the destructor reaps what is in flight.
  struct Ring {
    io_uring ring{};
    bool live = false;
    bool sqpoll = false;
    unsigned in_flight = 0;  // submitted, not completed
    unsigned queued = 0;     // prepared, not submitted
    Ring() = default;
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;
    ~Ring();
    absl::Status Init(const QueueOptions& o);
    absl::StatusOr<unsigned> Submit();
  };
  BlockQueue(Namespace ns, UniqueFd fd, unsigned depth, std::optional<PciAddress> client, ExplainFn explain);
  absl::Status Queue(bool write, uint64_t slba, const DmaSpan* buf, uint64_t tag);
  Completion Decode(const io_uring_cqe& cqe);
  void Reap(Ring& r, std::vector<Completion>& out);

  Namespace ns_;
  UniqueFd fd_;
  unsigned depth_ = 0;
  std::optional<PciAddress> client_;
  ExplainFn explain_ = nullptr;
  // An array, not a vector: vector(n) of a private type instantiates a
  // libstdc++ helper named after it, which libcmb.map's cmb::* would export.
  std::unique_ptr<Slot[]> slots_;  // depth_ of them
  // Declared last, so destroyed first: their destructors reap commands that
  // still use the fd and the callers' buffers.
  Ring data_;
  // For IOPOLL queues: io_uring refuses FSYNC on a polled ring, so flushes
  // go through a second, interrupt-driven one.
  std::unique_ptr<Ring> flush_;
};

}  // namespace cmb::internal
#pragma GCC visibility pop
