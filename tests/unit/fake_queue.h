// FakeQueue: a CommandQueue (command_queue.h) over a byte vector, for the
// copy machine's unit tests. Commands wait until the test completes them,
// in any order and with any status; data moves when a command completes, as
// a device's DMA would. Every submitted command is logged.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "command_queue.h"

#pragma GCC visibility push(hidden)  // as its base, CommandQueue
namespace cmb::fake {

class FakeQueue final : public internal::CommandQueue {
 public:
  enum class Op { kRead, kWrite, kFlush, kCopy };
  struct Cmd {
    Op op;
    uint64_t slba = 0, nlb = 0, dst_slba = 0, tag = 0;
    uint8_t* data = nullptr;
  };

  FakeQueue(uint32_t lba_size, uint64_t blocks, unsigned depth)
      : disk(lba_size * blocks), lba(lba_size), depth_(depth) {}

  absl::Status Read(uint64_t slba, const DmaSpan& b, uint64_t tag) override {
    return Add({Op::kRead, slba, b.size() / lba, 0, tag, b.data()});
  }
  absl::Status Write(uint64_t slba, const DmaSpan& b, uint64_t tag) override {
    return Add({Op::kWrite, slba, b.size() / lba, 0, tag, b.data()});
  }
  absl::Status Flush(uint64_t tag) override { return Add({Op::kFlush, 0, 0, 0, tag, nullptr}); }
  absl::Status Copy(uint64_t src, uint32_t nlb, uint64_t dst, uint64_t tag) override {
    return Add({Op::kCopy, src, nlb, dst, tag, nullptr});
  }
  absl::StatusOr<unsigned> Submit() override {
    if (!submit_error.ok()) return std::exchange(submit_error, absl::OkStatus());
    const unsigned n = static_cast<unsigned>(queued_.size());
    for (Cmd& c : queued_) log.push_back(c), flight.push_back(c);
    queued_.clear();
    return n;
  }
  std::vector<Completion> Poll() override { return std::exchange(done_, {}); }
  unsigned in_flight() const override { return static_cast<unsigned>(flight.size()); }
  unsigned queued() const override { return static_cast<unsigned>(queued_.size()); }

  // Completes flight[i] (the oldest is 0): moves its data when `s` is OK.
  void Complete(size_t i, absl::Status s = absl::OkStatus()) {
    Cmd c = flight.at(i);
    flight.erase(flight.begin() + static_cast<std::ptrdiff_t>(i));
    if (s.ok()) Move(c);
    done_.push_back({.tag = c.tag, .res = s.ok() ? 0 : -5, .result = 0, .status = s, .nvme = std::nullopt});
  }
  void CompleteAll(bool newest_first) {
    while (!flight.empty()) Complete(newest_first ? flight.size() - 1 : 0);
  }
  size_t Count(Op op) const {
    return std::count_if(log.begin(), log.end(), [&](const Cmd& c) { return c.op == op; });
  }

  std::vector<uint8_t> disk;
  uint32_t lba;
  std::vector<Cmd> flight;   // submitted, not completed, oldest first
  std::vector<Cmd> log;      // every submitted command
  absl::Status queue_error;  // Read/Write/Flush/Copy fail with it while set
  absl::Status submit_error; // the next Submit fails with it

 private:
  absl::Status Add(Cmd c) {
    if (!queue_error.ok()) return queue_error;
    if (queued_.size() + flight.size() >= depth_) return absl::ResourceExhaustedError("fake queue full");
    if ((c.slba + c.nlb) * lba > disk.size() || (c.dst_slba + c.nlb) * lba > disk.size())
      return absl::OutOfRangeError("fake queue: LBA out of range");
    queued_.push_back(c);
    return absl::OkStatus();
  }
  void Move(const Cmd& c) {
    const size_t off = c.slba * lba, n = c.nlb * lba;
    if (c.op == Op::kRead) std::memcpy(c.data, disk.data() + off, n);
    if (c.op == Op::kWrite) std::memcpy(disk.data() + off, c.data, n);
    if (c.op == Op::kCopy) std::memmove(disk.data() + c.dst_slba * lba, disk.data() + off, n);
  }
  unsigned depth_;
  std::vector<Cmd> queued_;
  std::vector<Completion> done_;
};

}  // namespace cmb::fake
#pragma GCC visibility pop
