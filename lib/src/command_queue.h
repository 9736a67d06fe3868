// CommandQueue: what the copy machine (copy_machine.h) needs of a queue:
// queue a command, hand the queued ones to the kernel, reap what completed.
// NvmeCommandQueue is the library's, over NvmeQueue (io_uring passthrough);
// unit tests give the machine a fake that completes in any order, fails
// commands, and refuses submissions, without a device.
//
//   NvmeCommandQueue q(std::move(*nvme_queue));
//   CMB_RETURN_IF_ERROR(q.Write(slba, span, tag));
//   q.Submit();  ...  for (const Completion& c : q.Poll()) ...
//
// The contract the machine relies on: a command is reported once, by its
// tag, whole or failed (a queue that can move fewer bytes than asked reports
// that as a failure); Submit failing with Unavailable leaves the commands
// queued for the next Submit, any other failure loses them.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_queue.h"

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

// The checks both data paths make of their options before opening anything:
// a depth in 1..4096, and poll queues for IOPOLL (with the module parameter
// that adds them as the fix).
absl::Status CheckQueueOptions(const Namespace& ns, const QueueOptions& options);

class __attribute__((visibility("hidden"))) CommandQueue {  // explicit: see CopyMachine
 public:
  virtual ~CommandQueue() = default;
  virtual absl::Status Read(uint64_t slba, const DmaSpan& buf, uint64_t tag) = 0;
  virtual absl::Status Write(uint64_t slba, const DmaSpan& buf, uint64_t tag) = 0;
  virtual absl::Status Flush(uint64_t tag) = 0;
  // NVMe Copy within the queue's namespace.
  virtual absl::Status Copy(uint64_t src_slba, uint32_t nlb, uint64_t dst_slba, uint64_t tag) = 0;
  virtual absl::StatusOr<unsigned> Submit() = 0;
  virtual std::vector<Completion> Poll() = 0;  // never blocks
  virtual unsigned in_flight() const = 0;      // submitted, not completed
  virtual unsigned queued() const = 0;         // queued, not submitted
};

class NvmeCommandQueue final : public CommandQueue {
 public:
  explicit NvmeCommandQueue(NvmeQueue q) : q_(std::move(q)) {}
  absl::Status Read(uint64_t slba, const DmaSpan& buf, uint64_t tag) override { return q_.Read(slba, buf, tag); }
  absl::Status Write(uint64_t slba, const DmaSpan& buf, uint64_t tag) override { return q_.Write(slba, buf, tag); }
  absl::Status Flush(uint64_t tag) override { return q_.Flush(tag); }
  absl::Status Copy(uint64_t src_slba, uint32_t nlb, uint64_t dst_slba, uint64_t tag) override {
    return q_.Copy(src_slba, nlb, dst_slba, tag);
  }
  absl::StatusOr<unsigned> Submit() override { return q_.Submit(); }
  std::vector<Completion> Poll() override { return q_.Poll(); }
  unsigned in_flight() const override { return q_.in_flight(); }
  unsigned queued() const override { return q_.queued(); }
  NvmeQueue& nvme() { return q_; }

 private:
  NvmeQueue q_;
};

}  // namespace cmb::internal
#pragma GCC visibility pop
