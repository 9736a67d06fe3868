// CopyMachine: the copier's completion and flush state machine, over queues
// it does not own (command_queue.h). Each chunk is read from the source into
// a buffer chunk, written to every live destination, and its chunk reused
// when all are done with it; a request ends with one Flush per destination
// it wrote, one Flush at a time per destination, so its prefixes can be
// trusted. A destination that fails is dropped (or, with
// stop_on_dst_failure, the request stops); a queue that cannot submit breaks
// the machine, and every request finishes at once with that error.
//
//   CopyMachine m(cfg, {.name = "nvme1n1", .lba_size = 512, .q = &src_q}, {{"nvme2n1", 512, &dst_q}}, &pool, now);
//   uint64_t id = m.Add(extents, bytes);        // extents checked (copy_extents.h)
//   CopyMachine::Turn t = m.Step(now);          // reap, issue, finish, submit
//   // t.finished: requests done; t.wake: when the rate limit lets the next command start
//
// Time is passed in (the pacer's), so unit tests drive it with fake queues
// and no clock. Not thread-safe. Queues and pool must outlive the machine.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "chunk_cursor.h"
#include "cmb/chunk_pool.h"
#include "cmb/copier.h"
#include "command_queue.h"
#include "pacer.h"
#include "prefix_tracker.h"

#pragma GCC visibility push(hidden)
namespace cmb::internal {

struct MachineEnd {
  std::string name;      // "nvme2n1", for messages
  uint64_t lba_size = 0;
  CommandQueue* q = nullptr;
};

struct MachineConfig {
  uint64_t chunk_bytes = 0;  // per command at most
  unsigned qd = 0;           // chunks (or Copy commands) in flight at most
  // NVMe Copy: the one destination is the source's namespace and copies
  // itself; no source queue and no pool.
  bool nvme_copy = false;
  bool stop_on_dst_failure = false;
  uint64_t rate_bytes_per_s = 0;
};

// No structured bindings, pair emplace or resize() over its private types: libstdc++'s
// helpers for them (std::__pair_get, __uninit_default_n) are function
// templates in a namespace of explicit default visibility, named after the
// type they return (cmb::internal::...), which libcmb.map's `cmb::*` exports.
class __attribute__((visibility("hidden"))) CopyMachine {
 public:
  using Clock = std::chrono::steady_clock;
  CopyMachine(MachineConfig cfg, MachineEnd src, std::vector<MachineEnd> dsts, ChunkPool* pool, Clock::time_point now);

  // Queues a checked request of `total` bytes; its id (counting up from 1).
  uint64_t Add(std::vector<Extent> extents, uint64_t total);
  // Starts no more of the request's commands; false when it is not running.
  bool Cancel(uint64_t id);
  void CancelAll();

  struct Turn {
    std::vector<CopyCompletion> finished;
    std::optional<Clock::time_point> wake;  // the rate limit holds commands back until then
  };
  Turn Step(Clock::time_point now);

  bool Running(uint64_t id) const { return requests_.count(id) != 0; }
  size_t running() const { return requests_.size(); }
  // Request `id`'s contiguous prefix on its slowest live destination; 0 when not running.
  uint64_t Progress(uint64_t id) const;
  const absl::Status& broken() const { return broken_; }
  bool commands_in_flight() const;

 private:
  struct Dst {
    MachineEnd end;
    absl::Status failed;    // sticky: a failed destination is written no more
    bool flushing = false;  // one Flush at a time, so writes and it fit the queue (depth qd + 1)
  };
  // A request's state on one destination.
  struct DstProgress {
    PrefixTracker done;
    absl::Status status, flush_status;
    bool need_flush = false, flushing = false, flushed = true;
  };
  struct Request {
    ChunkCursor cursor;
    uint64_t id = 0, total = 0, commands = 0;
    bool cancelled = false, flush_started = false;
    absl::Status status;  // the read side's failure, or a destination's with stop_on_dst_failure
    unsigned in_flight = 0;
    std::vector<DstProgress> dsts;
    bool issuing_done() const { return cursor.done() || cancelled || !status.ok(); }
  };
  // One chunk on its way: read into `chunk`, then written to each live destination.
  struct Flight {
    uint64_t req = 0;
    ChunkCursor::Piece piece;
    std::optional<DmaSpan> chunk;
    unsigned writes_left = 0;
  };

  void Reap();
  void OnRead(const Completion& c);
  void WriteChunk(Flight& f, Request& r, uint64_t tag);
  void OnWrite(size_t d, const Completion& c);
  void OnFlush(size_t d, const Completion& c);
  void DstFail(size_t d, Request& r, absl::Status s);
  void ReleaseFlight(uint64_t tag);  // a chunk's last command is done: the chunk goes back to the pool
  std::optional<Clock::time_point> Issue(Clock::time_point now);
  bool CheckLive(Request& r) const;
  bool IssueOne(Request& r);
  void SubmitAll();
  void BreakAll();
  void RetireDone();  // requests with nothing left to issue, reap or flush become completions
  bool StartFlushes(Request& r);
  CopyCompletion CompletionOf(Request& r);  // what a finished request reports

  MachineConfig cfg_;
  MachineEnd src_;
  std::vector<Dst> dsts_;
  ChunkPool* pool_;
  Pacer pacer_;
  std::map<uint64_t, Request> requests_;  // by id, so in submission order
  std::unordered_map<uint64_t, Flight> flights_;
  std::vector<CopyCompletion> finished_;
  uint64_t next_id_ = 1, next_tag_ = 1;
  absl::Status broken_;  // a queue could not submit: no request can finish normally
};

}  // namespace cmb::internal
#pragma GCC visibility pop
