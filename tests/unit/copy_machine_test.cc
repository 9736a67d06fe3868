// The copier's state machine (copy_machine.h) against fake queues
// (fake_queue.h): completions in any order, failed reads, writes and
// flushes, a queue that cannot submit, cancellation, a destination that
// disappears, the rate limit and chunk reuse. No device and no clock: the
// tests complete each command themselves and pass the time in.
#include "copy_machine.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "cmb/dma_buffer.h"
#include "cmb/fix.h"
#include "fake_queue.h"

namespace cmb::internal {
namespace {

using fake::FakeQueue;
using Op = FakeQueue::Op;
using Clock = CopyMachine::Clock;

constexpr uint32_t kLba = 512;
constexpr uint64_t kBlocks = 2048;  // 1 MiB namespaces
constexpr uint64_t kChunk = 4096;   // 8 LBAs per command

// A source and two destinations; the machine copies to the first `ndst`.
struct Rig {
  FakeQueue src, a, b;
  std::optional<ChunkPool> pool;
  std::optional<CopyMachine> m;
  Clock::time_point now{};  // the tests' own time; only the rate limit reads it
  std::vector<FakeQueue*> dsts;

  explicit Rig(MachineConfig cfg = {}, int ndst = 1)
      : src(kLba, kBlocks, Qd(cfg)), a(kLba, kBlocks, Qd(cfg) + 1), b(kLba, kBlocks, Qd(cfg) + 1) {
    cfg.chunk_bytes = cfg.chunk_bytes ? cfg.chunk_bytes : kChunk;
    cfg.qd = Qd(cfg);
    for (size_t i = 0; i < src.disk.size(); ++i) src.disk[i] = static_cast<uint8_t>(i * 131 + (i >> 9) + 7);
    std::vector<MachineEnd> ends{{"a", kLba, &a}, {"b", kLba, &b}};
    ends.resize(ndst);
    dsts = {&a, &b};
    dsts.resize(ndst);
    if (cfg.nvme_copy) {
      a.disk = src.disk;  // NVMe Copy: the destination is the source's own namespace
      m.emplace(cfg, MachineEnd{"a", kLba, nullptr}, ends, nullptr, now);
      return;
    }
    absl::StatusOr<DmaBuffer> buf = AllocateHostMem(cfg.chunk_bytes * cfg.qd);
    EXPECT_TRUE(buf.ok()) << buf.status();
    absl::StatusOr<ChunkPool> p = ChunkPool::Create(std::move(*buf), cfg.chunk_bytes);
    EXPECT_TRUE(p.ok()) << p.status();
    pool.emplace(std::move(*p));
    m.emplace(cfg, MachineEnd{"src", kLba, &src}, ends, &*pool, now);
  }
  static unsigned Qd(const MachineConfig& c) { return c.qd ? c.qd : 4; }
  std::vector<FakeQueue*> queues() {
    std::vector<FakeQueue*> q{&src};
    q.insert(q.end(), dsts.begin(), dsts.end());
    return q;
  }
  uint64_t Add(std::vector<Extent> e) {
    uint64_t total = 0;
    for (const Extent& x : e) total += x.count * kLba;
    return m->Add(std::move(e), total);
  }
  std::vector<CopyCompletion> Step() { return m->Step(now).finished; }
};

// The status each command completes with; OK unless a test says otherwise.
using Policy = std::function<absl::Status(const FakeQueue&, const FakeQueue::Cmd&)>;
absl::Status AllOk(const FakeQueue&, const FakeQueue::Cmd&) { return absl::OkStatus(); }

// Steps until nothing runs, completing every command after each step.
std::vector<CopyCompletion> RunToEnd(Rig& r, const Policy& policy = AllOk, bool newest_first = true) {
  std::vector<CopyCompletion> out;
  for (int turn = 0; turn < 10000; ++turn) {
    for (CopyCompletion& c : r.Step()) out.push_back(std::move(c));
    if (r.m->running() == 0) return out;
    for (FakeQueue* q : r.queues())
      while (!q->flight.empty()) {
        const size_t i = newest_first ? q->flight.size() - 1 : 0;
        q->Complete(i, policy(*q, q->flight[i]));
      }
  }
  ADD_FAILURE() << "the machine did not finish in 10000 turns";
  return out;
}

bool SameBytes(const FakeQueue& s, uint64_t src_lba, const FakeQueue& d, uint64_t dst_lba, uint64_t blocks) {
  return std::equal(s.disk.begin() + src_lba * kLba, s.disk.begin() + (src_lba + blocks) * kLba,
                    d.disk.begin() + dst_lba * kLba);
}

// Every write lies inside one extent's destination range.
void ExpectWritesInside(const FakeQueue& q, const std::vector<Extent>& ext) {
  for (const FakeQueue::Cmd& c : q.log) {
    if (c.op != Op::kWrite) continue;
    const bool inside = std::any_of(ext.begin(), ext.end(), [&](const Extent& e) {
      return c.slba >= e.dst_lba && c.slba + c.nlb <= e.dst_lba + e.count;
    });
    EXPECT_TRUE(inside) << "write of LBAs " << c.slba << ".." << c.slba + c.nlb - 1 << " is outside every extent";
  }
}

class CopyMachineOrder : public ::testing::TestWithParam<bool> {};

TEST_P(CopyMachineOrder, CopiesExactlyTheExtentsWhateverOrderCompletionsCome) {
  Rig r;
  const std::vector<Extent> ext{{0, 100, 20}, {50, 300, 9}, {700, 0, 3}};  // 3 + 2 + 1 commands
  const uint64_t id = r.Add(ext);
  std::vector<CopyCompletion> done = RunToEnd(r, AllOk, GetParam());
  ASSERT_EQ(done.size(), 1u);
  const CopyCompletion& c = done[0];
  EXPECT_EQ(c.id, id);
  EXPECT_TRUE(c.status.ok()) << c.status;
  EXPECT_EQ(c.bytes_total, 32u * kLba);
  EXPECT_EQ(c.prefix_bytes(), c.bytes_total);
  EXPECT_EQ(c.commands, 12u) << "6 reads and 6 writes";
  EXPECT_TRUE(c.dsts[0].flushed);
  for (const Extent& e : ext) EXPECT_TRUE(SameBytes(r.src, e.src_lba, r.a, e.dst_lba, e.count));
  ExpectWritesInside(r.a, ext);
  EXPECT_EQ(r.a.Count(Op::kFlush), 1u);
  const uint64_t written = std::count_if(r.a.disk.begin(), r.a.disk.end(), [](uint8_t x) { return x != 0; });
  EXPECT_LE(written, 32u * kLba) << "nothing outside the extents changed";
}

INSTANTIATE_TEST_SUITE_P(NewestFirstOrOldestFirst, CopyMachineOrder, ::testing::Bool());

TEST(CopyMachine, PrefixIsContiguousWhenWritesCompleteOutOfOrder) {
  Rig r;
  const uint64_t id = r.Add({{0, 0, 24}});  // 3 chunks
  r.Step();
  ASSERT_EQ(r.src.flight.size(), 3u);
  r.src.CompleteAll(false);
  r.Step();
  ASSERT_EQ(r.a.flight.size(), 3u);
  r.a.Complete(2);
  r.a.Complete(1);
  r.Step();
  EXPECT_EQ(r.m->Progress(id), 0u) << "chunks 1 and 2 are done, chunk 0 is not";
  r.a.Complete(0);
  r.Step();
  EXPECT_EQ(r.m->Progress(id), 3 * kChunk);
  std::vector<CopyCompletion> done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].status.ok()) << done[0].status;
}

TEST(CopyMachine, AFailedReadEndsTheRequestWithAnExactDurablePrefix) {
  Rig r;
  r.Add({{0, 0, 24}});
  auto fail_second_read = [](const FakeQueue&, const FakeQueue::Cmd& c) {
    return c.op == Op::kRead && c.slba == 8 ? absl::DataLossError("unrecovered read") : absl::OkStatus();
  };
  std::vector<CopyCompletion> done = RunToEnd(r, fail_second_read, false);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(done[0].status.message().find("reading src LBAs 8..15: unrecovered read"), std::string::npos)
      << done[0].status;
  EXPECT_EQ(done[0].prefix_bytes(), kChunk) << "chunk 0 only";
  EXPECT_TRUE(done[0].dsts[0].flushed);
  EXPECT_EQ(r.a.Count(Op::kFlush), 1u) << "what was written is flushed, so the prefix can be trusted";
  EXPECT_TRUE(SameBytes(r.src, 0, r.a, 0, 8));
}

TEST(CopyMachine, AFailingDestinationIsDroppedWhileTheOthersGoOn) {
  Rig r({}, 2);
  r.Add({{0, 0, 24}});
  auto b_fails_chunk_1 = [&](const FakeQueue& q, const FakeQueue::Cmd& c) {
    return &q == &r.b && c.op == Op::kWrite && c.slba == 8 ? absl::UnavailableError("no device") : absl::OkStatus();
  };
  std::vector<CopyCompletion> done = RunToEnd(r, b_fails_chunk_1, false);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(done[0].dsts[0].status.ok());
  EXPECT_EQ(done[0].dsts[0].prefix_bytes, 3 * kChunk);
  EXPECT_NE(done[0].dsts[1].status.message().find("writing b LBAs 8..15"), std::string::npos) << done[0].dsts[1].status;
  EXPECT_EQ(done[0].dsts[1].prefix_bytes, kChunk);
  EXPECT_TRUE(SameBytes(r.src, 0, r.a, 0, 24));

  // The next request skips the dropped destination and reports its failure.
  const size_t b_writes = r.b.Count(Op::kWrite);
  r.Add({{100, 100, 8}});
  done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(r.b.Count(Op::kWrite), b_writes);
  EXPECT_TRUE(done[0].dsts[0].status.ok());
  EXPECT_EQ(done[0].dsts[0].prefix_bytes, kChunk);
  EXPECT_EQ(done[0].dsts[1].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(done[0].dsts[1].prefix_bytes, 0u);
}

TEST(CopyMachine, StopOnDstFailureStopsTheRequestAndLaterOnes) {
  Rig r({.stop_on_dst_failure = true}, 2);
  r.Add({{0, 0, 96}});  // 12 chunks, 4 at a time
  auto b_fails = [&](const FakeQueue& q, const FakeQueue::Cmd& c) {
    return &q == &r.b && c.op == Op::kWrite ? absl::UnavailableError("no device") : absl::OkStatus();
  };
  std::vector<CopyCompletion> done = RunToEnd(r, b_fails, false);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(r.src.Count(Op::kRead), 12u) << "no more reads after the failure";
  EXPECT_LT(done[0].dsts[0].prefix_bytes, 12 * kChunk);
  const size_t reads = r.src.Count(Op::kRead);
  r.Add({{200, 200, 8}});
  done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.src.Count(Op::kRead), reads) << "a later request starts nothing";
}

TEST(CopyMachine, AFailedFlushLeavesTheDestinationNotFlushed) {
  Rig r;
  r.Add({{0, 0, 8}});
  auto flush_fails = [](const FakeQueue&, const FakeQueue::Cmd& c) {
    return c.op == Op::kFlush ? absl::DataLossError("write fault") : absl::OkStatus();
  };
  std::vector<CopyCompletion> done = RunToEnd(r, flush_fails);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].dsts[0].flushed);
  EXPECT_EQ(done[0].status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(done[0].status.message().find("flushing a: write fault"), std::string::npos) << done[0].status;
  EXPECT_EQ(done[0].dsts[0].prefix_bytes, kChunk) << "written, though not known durable";
}

TEST(CopyMachine, AFailureAndAFailedFlushKeepBothTheirFixes) {
  Rig r;
  r.Add({{0, 0, 16}});
  const Fix health{.kind = Fix::Kind::kInspect, .look = Fix::Look::kHealthLog, .device = "a"};
  const Fix errors{.kind = Fix::Kind::kInspect, .look = Fix::Look::kErrorLog, .device = "a"};
  auto fail = [&](const FakeQueue&, const FakeQueue::Cmd& c) {
    if (c.op == Op::kWrite && c.slba == 8) return WithFix(absl::DataLossError("write fault"), health);
    if (c.op == Op::kFlush) return WithFix(absl::DataLossError("flush failed"), errors);
    return absl::OkStatus();
  };
  std::vector<CopyCompletion> done = RunToEnd(r, fail, false);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(done[0].status.message().find("writing a LBAs 8..15: write fault; then flushing a: flush failed"),
            std::string::npos) << done[0].status;
  const std::vector<Fix> fixes = FixesOf(done[0].status);
  ASSERT_EQ(fixes.size(), 2u) << done[0].status;
  EXPECT_EQ(fixes[0], health);
  EXPECT_EQ(fixes[1], errors);
}

TEST(CopyMachine, CancelStartsNothingMoreAndReportsTheExactPrefix) {
  Rig r;
  const uint64_t id = r.Add({{0, 0, 96}});  // 12 chunks, 4 at a time
  r.Step();
  ASSERT_EQ(r.src.flight.size(), 4u);
  EXPECT_TRUE(r.m->Cancel(id));
  EXPECT_FALSE(r.m->Cancel(id + 1)) << "not running";
  std::vector<CopyCompletion> done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].cancelled);
  EXPECT_EQ(done[0].status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(done[0].status.message(), "cancelled after 0 of 49152 bytes") << "reads in flight are not written";
  EXPECT_EQ(r.src.Count(Op::kRead), 4u);
  EXPECT_EQ(r.a.Count(Op::kWrite), 0u);
  EXPECT_EQ(r.a.Count(Op::kFlush), 0u) << "nothing written, nothing to flush";
}

TEST(CopyMachine, CancelAfterTheReadsLandsWhatWasInFlight) {
  Rig r;
  const uint64_t id = r.Add({{0, 0, 96}});
  r.Step();
  r.src.CompleteAll(false);
  r.Step();  // the 4 chunks go to the destination
  EXPECT_TRUE(r.m->Cancel(id));
  std::vector<CopyCompletion> done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].cancelled);
  EXPECT_EQ(done[0].prefix_bytes(), 4 * kChunk);
  EXPECT_EQ(r.a.Count(Op::kFlush), 1u);
  EXPECT_TRUE(SameBytes(r.src, 0, r.a, 0, 32));
}

TEST(CopyMachine, ACancelThatComesTooLateChangesNothing) {
  Rig r;
  const uint64_t id = r.Add({{0, 0, 8}});
  r.Step();
  r.src.CompleteAll(false);
  r.Step();
  r.a.CompleteAll(false);
  r.Step();  // written; its Flush is in flight
  ASSERT_EQ(r.a.flight.size(), 1u);
  EXPECT_TRUE(r.m->Cancel(id));
  std::vector<CopyCompletion> done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].cancelled);
  EXPECT_TRUE(done[0].status.ok()) << done[0].status;
}

TEST(CopyMachine, AQueueThatCannotSubmitFinishesEveryRequest) {
  Rig r;
  r.Add({{0, 0, 24}});
  r.Add({{100, 100, 8}});
  r.Step();
  r.src.CompleteAll(false);
  r.a.submit_error = absl::InternalError("ring gone");
  std::vector<CopyCompletion> done = r.Step();  // the writes cannot be submitted
  ASSERT_EQ(done.size(), 2u);
  for (const CopyCompletion& c : done) {
    EXPECT_EQ(c.status.code(), absl::StatusCode::kInternal);
    EXPECT_NE(c.status.message().find("the copier stopped: submitting to a failed: ring gone"), std::string::npos)
        << c.status;
  }
  EXPECT_EQ(r.m->running(), 0u);
  EXPECT_FALSE(r.m->broken().ok());
}

TEST(CopyMachine, AnUnavailableSubmitIsRetried) {
  Rig r;
  r.Add({{0, 0, 24}});
  r.src.submit_error = absl::UnavailableError("EAGAIN");
  r.Step();
  EXPECT_EQ(r.src.flight.size(), 0u);
  EXPECT_EQ(r.src.queued(), 3u) << "still queued";
  std::vector<CopyCompletion> done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].status.ok()) << done[0].status;
  EXPECT_TRUE(r.m->broken().ok());
}

TEST(CopyMachine, OneFlushAtATimePerDestination) {
  Rig r;
  r.Add({});  // requests with no extents only flush
  r.Add({});
  r.Step();
  ASSERT_EQ(r.a.flight.size(), 1u);
  r.Step();
  EXPECT_EQ(r.a.flight.size(), 1u) << "the second waits for the first";
  r.a.CompleteAll(false);
  std::vector<CopyCompletion> done = r.Step();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(r.a.flight.size(), 1u) << "now the second";
  done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].status.ok());
  EXPECT_EQ(r.a.Count(Op::kFlush), 2u);
}

TEST(CopyMachine, TheRateLimitHoldsCommandsBackUntilTheirTime) {
  Rig r({.rate_bytes_per_s = kChunk});  // one chunk a second
  r.Add({{0, 0, 24}});
  CopyMachine::Turn t = r.m->Step(r.now);
  EXPECT_EQ(r.src.flight.size(), 1u);
  ASSERT_TRUE(t.wake.has_value());
  EXPECT_EQ(*t.wake, r.now + std::chrono::seconds(1));
  t = r.m->Step(r.now + std::chrono::milliseconds(999));
  EXPECT_EQ(r.src.flight.size(), 1u);
  t = r.m->Step(r.now + std::chrono::seconds(1));
  EXPECT_EQ(r.src.flight.size(), 2u);
  EXPECT_EQ(*t.wake, r.now + std::chrono::seconds(2));
}

TEST(CopyMachine, AChunkIsReusedOnlyWhenEveryDestinationIsDoneWithIt) {
  Rig r({.qd = 2}, 2);
  r.Add({{0, 0, 32}});  // 4 chunks through 2
  r.Step();
  r.src.CompleteAll(false);
  r.Step();
  r.a.CompleteAll(false);  // b still writes both chunks
  r.Step();
  EXPECT_EQ(r.src.Count(Op::kRead), 2u);
  r.b.Complete(0);
  r.Step();
  EXPECT_EQ(r.src.Count(Op::kRead), 3u) << "one chunk free";
  std::vector<CopyCompletion> done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].status.ok());
  EXPECT_TRUE(SameBytes(r.src, 0, r.b, 0, 32));
}

TEST(CopyMachine, NvmeCopyKeepsQdCopiesInFlightInsideTheNamespace) {
  Rig r({.qd = 2, .nvme_copy = true});
  const std::vector<Extent> ext{{0, 512, 40}};  // 5 Copy commands
  r.Add(ext);
  r.Step();
  EXPECT_EQ(r.a.flight.size(), 2u);
  std::vector<CopyCompletion> done = RunToEnd(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].status.ok()) << done[0].status;
  EXPECT_EQ(r.a.Count(Op::kCopy), 5u);
  EXPECT_TRUE(SameBytes(r.src, 0, r.a, 512, 40));
  EXPECT_EQ(done[0].commands, 5u);
}

}  // namespace
}  // namespace cmb::internal
