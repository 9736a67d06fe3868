// The copy engine's rules that hold without a device (copy_engine.h): the
// resume rule (which offsets a copy may continue from, which bytes are
// durable), and runs refused before any device is opened. The drive loop
// itself runs for real in tests/vm (cmbcp_test.cc, copier_test.cc).
#include <gtest/gtest.h>

#include <vector>

#include "cmb/copy_engine.h"
#include "cmb/copy_plan.h"
#include "cmb/planner.h"
#include "cmb/discovery.h"
#include "cmb/namespace_spec.h"
#include "fake_sysfs.h"

namespace {

// A plan of `bytes` between namespaces of these LBA sizes; no device behind it.
cmb::CopyPlan Plan(uint32_t src_lba, uint32_t dst_lba, uint64_t bytes) {
  cmb::CopyPlan p;
  p.src.ns.lba_size = src_lba;
  p.dst.ns.lba_size = dst_lba;
  p.bytes = bytes;
  return p;
}

TEST(ResumeRule, WithinTheRangeAtWholeLbasOfEveryEnd) {
  const cmb::CopyPlan p = Plan(512, 4096, 64 << 10);
  for (uint64_t ok : {0u, 4096u, 60u << 10, 64u << 10}) EXPECT_EQ(cmb::WhyNotResumable(p, ok), "") << ok;
  EXPECT_EQ(cmb::WhyNotResumable(p, 4608), "not a multiple of 4096 bytes (both LBA sizes)");
  EXPECT_EQ(cmb::WhyNotResumable(p, (64 << 10) + 4096), "beyond the 65536-byte range");
  EXPECT_TRUE(cmb::CheckResumeOffset(p, 8192).ok());
  absl::Status s = cmb::CheckResumeOffset(p, 4608);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "cannot resume at byte 4608: it is not a multiple of 4096 bytes (both LBA sizes)");
  EXPECT_EQ(s.message().find("--"), absl::string_view::npos) << "the library names no tool's flag";
  // Every destination's LBA size counts.
  cmb::CopyPlan fan = Plan(512, 512, 64 << 10);
  EXPECT_EQ(cmb::WhyNotResumable(fan, 512), "");
  fan.fanout.push_back(cmb::CopyEnd{});
  fan.fanout.back().ns.lba_size = 4096;
  EXPECT_EQ(cmb::WhyNotResumable(fan, 512), "not a multiple of 4096 bytes (both LBA sizes)");
}

// Only a flushed prefix is durable: a destination whose flush failed keeps
// only what an earlier run flushed, the offset it resumed from.
TEST(ResumeRule, OnlyAFlushedPrefixIsDurable) {
  cmb::CopyResult r;
  r.resumed_from = 8192;
  EXPECT_EQ(r.durable_bytes(), 8192u) << "a run that never started leaves the earlier prefix";
  r.dsts.resize(2);
  r.dsts[0].prefix_bytes = 4096;
  r.dsts[1].prefix_bytes = 12288;
  r.dsts[1].flushed = false;
  EXPECT_EQ(r.done_bytes(0), 12288u);
  EXPECT_EQ(r.done_bytes(1), 20480u);
  EXPECT_EQ(r.durable_bytes(0), 12288u);
  EXPECT_EQ(r.durable_bytes(1), 8192u) << "written, not flushed: not durable";
  // What the rule reports durable is always an offset it lets a later run resume from.
  const cmb::CopyPlan p = Plan(512, 512, 64 << 10);
  for (size_t i : {0, 1}) EXPECT_EQ(cmb::WhyNotResumable(p, r.durable_bytes(i)), "") << i;
}

struct Progress {
  std::vector<cmb::CopyProgress> calls;
  cmb::CopyControl Control() {
    cmb::CopyControl c;
    c.progress = [this](const cmb::CopyProgress& p) { calls.push_back(p); };
    return c;
  }
};

// An offset the rule refuses never reaches a device (this plan has none): the
// run ends at once, refused, with no destination's outcome and one progress call.
TEST(RunCopy, AnOffsetTheRuleRefusesStopsBeforeAnyDevice) {
  Progress pr;
  cmb::CopyControl ctl = pr.Control();
  ctl.resume_bytes = 100;
  cmb::CopyResult r = cmb::RunCopy(cmb::SysRoot(), Plan(512, 512, 64 << 10), ctl);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument) << r.status;
  EXPECT_NE(r.status.message().find("cannot resume at byte 100"), absl::string_view::npos) << r.status;
  EXPECT_TRUE(r.dsts.empty());
  EXPECT_EQ(r.bytes_done, 0u);
  EXPECT_EQ(r.resumed_from, 0u);
  EXPECT_EQ(r.commands, 0u);
  ASSERT_EQ(pr.calls.size(), 1u);
  EXPECT_EQ(pr.calls[0].bytes_total, 64u << 10);
}

TEST(RunExtents, AnExtentListHasNoResumeOffset) {
  Progress pr;
  cmb::CopyControl ctl = pr.Control();
  ctl.resume_bytes = 512;
  cmb::CopyResult r = cmb::RunExtents(cmb::SysRoot(), Plan(512, 512, 64 << 10), {{0, 0, 8}, {100, 8, 4}}, ctl);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument) << r.status;
  EXPECT_TRUE(r.dsts.empty());
  ASSERT_EQ(pr.calls.size(), 1u);
  EXPECT_EQ(pr.calls[0].bytes_total, 12u * 512) << "the list's bytes";
}

// A plan of extents made in a fake tree: the copier cannot open its devices
// (they are not in the tree), so the run is refused before it started, with
// no destination's outcome: the sign cmbcp --extents reads as "nothing ran".
TEST(RunExtents, ACopierThatCannotOpenLeavesNoDestinationOutcome) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed();
  cmb::System sys = *cmb::Discover(t.root());
  const std::vector<cmb::Extent> list = {{0, 64, 8}, {8, 0, 8}};
  cmb::CopyRequest req{.src = *cmb::ResolveNamespace(t.root(), sys, "nvme1:1"),
                       .dst = *cmb::ResolveNamespace(t.root(), sys, "nvme2:1"), .extents = list,
                       .method = cmb::CopyMethod::kBounce};
  absl::StatusOr<cmb::CopyPlan> plan = cmb::PlanCopy(t.root(), sys, req);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->bytes, 16u * 512);
  Progress pr;
  cmb::CopyResult r = cmb::RunExtents(t.root(), *plan, list, pr.Control());
  EXPECT_FALSE(r.status.ok());
  EXPECT_TRUE(r.dsts.empty());
  EXPECT_EQ(r.commands, 0u);
  EXPECT_EQ(r.bytes_done, 0u);
  ASSERT_EQ(pr.calls.size(), 1u);
  EXPECT_EQ(pr.calls[0].bytes_total, 16u * 512);
}

}  // namespace
