// Fan-out planning (PlanFanOut) over fake sysfs trees: one CMB that the
// source and every destination reach, every destination checked like a
// pair's, and the misuse a caller can make refused with a clear reason. The
// copy itself is checked for real by tests/vm/copier_test.cc.
#include <gtest/gtest.h>

#include "cmb/fix.h"

#include <iostream>

#include "cmb/copy_plan.h"
#include "cmb/planner.h"
#include "cmb/extent_list.h"
#include "cmb/namespace_spec.h"
#include "fake_sysfs.h"

namespace {

// Root port -> switch -> nvme0 (64 MiB CMB), nvme1 (source), nvme2, nvme3;
// nvme4 behind its own root port, which the switch's CMB cannot reach
// without a whitelisted host bridge.
struct Tree {
  cmbtest::FakeSysfs t;
  cmb::System sys;
  Tree() {
    std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
    std::string up = t.AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
    t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6), "0000:03:00.0", "nvme0", {.cmb_mb = 64});
    t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1");
    t.AddNvme(t.AddBridge(up, "0000:02:02.0", 6), "0000:05:00.0", "nvme2");
    t.AddNvme(t.AddBridge(up, "0000:02:03.0", 6), "0000:06:00.0", "nvme3");
    t.AddNvme(t.AddBridge(t.HostBridge(), "0000:00:1d.0", 4), "0000:07:00.0", "nvme4");
    t.AddNvme(t.AddBridge(up, "0000:02:04.0", 6), "0000:08:00.0", "nvme5", {.lba_size = 4096});
    sys = *cmb::Discover(t.root());
  }
  cmb::NamespaceRef Ref(const std::string& spec) { return *cmb::ResolveNamespace(t.root(), sys, spec); }
  absl::StatusOr<cmb::CopyPlan> Plan(cmb::CopyRequest req, const std::vector<std::string>& dsts) {
    req.src = Ref("nvme1:1");
    std::vector<cmb::NamespaceRef> refs;
    for (const std::string& d : dsts) refs.push_back(Ref(d));
    return cmb::PlanFanOut(t.root(), sys, req, refs);
  }
};

bool Has(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

// Whether `s` offers setting `option` as a fix.
bool Offers(const absl::Status& s, cmb::Fix::Option option) {
  for (const cmb::Fix& f : cmb::FixesOf(s))
    if (f.kind == cmb::Fix::Kind::kSetOption && f.option == option) return true;
  return false;
}

TEST(FanOut, OneCmbReachesEveryDestination) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8192}, {"nvme2:1", "nvme3:1"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->method, cmb::CopyMethod::kP2p);
  EXPECT_EQ(p->provider->ToString(), "0000:03:00.0");
  EXPECT_EQ(p->dst.ns.name, "nvme2n1");
  ASSERT_EQ(p->fanout.size(), 1u);
  EXPECT_EQ(p->fanout[0].ns.name, "nvme3n1");
  EXPECT_EQ(p->destinations().size(), 2u);
  EXPECT_EQ(p->paths.size(), 3u) << "provider to the source and to each destination";
  EXPECT_EQ(p->bytes, 8192u * 512);
  EXPECT_EQ(p->chunk_bytes, 512u << 10);
  EXPECT_TRUE(Has(absl::InternalError(p->reasons.back()), "fan-out to 2 destinations")) << p->reasons.back();
}

TEST(FanOut, SameNamespaceTwiceOrTheSourceIsRefused) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8}, {"nvme2:1", "nvme3:1", "nvme2:1"});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(p.status(), "same namespace twice: nvme2n1 and nvme2n1")) << p.status();
  p = tr.Plan({.count = 8}, {"nvme2:1", "nvme1:1"});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(p.status(), "cannot write its source")) << p.status();
  p = tr.Plan({.count = 8, .method = cmb::CopyMethod::kNvmeCopy}, {"nvme2:1", "nvme3:1"});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(p.status(), "NVMe Copy has one destination")) << p.status();
  p = tr.Plan({.count = 8}, {});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  // One dst LBA means one byte offset on every destination only with one LBA size.
  p = tr.Plan({.count = 8}, {"nvme2:1", "nvme5:1"});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(p.status(), "share one LBA size")) << p.status();
}

TEST(FanOut, EachDestinationGetsThePairChecks) {
  Tree tr;
  // 2^30 bytes of 512-byte LBAs: the last LBA is 2097151.
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.dst_lba = 2097151, .count = 16}, {"nvme2:1", "nvme3:1"});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(Has(p.status(), "nvme2n1: ")) << p.status();
}

// A fan-out of extents: every destination planned for the list, each
// destination's span checked.
TEST(FanOut, APlanOfExtentsIsSizedForTheListOnEveryDestination) {
  Tree tr;
  const std::vector<cmb::Extent> list = {{8, 100, 8}, {0, 50, 8}};
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.extents = list}, {"nvme2:1", "nvme3:1"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->bytes, 16u * 512);
  EXPECT_EQ(p->src.lba, 0u);
  EXPECT_EQ(p->dst.lba, 50u);
  ASSERT_EQ(p->fanout.size(), 1u);
  EXPECT_EQ(p->fanout[0].lba, 50u);
  EXPECT_EQ(p->qd, 2u);
  const std::vector<cmb::Extent> past = {{0, 2097151, 2}};
  p = tr.Plan({.extents = past}, {"nvme2:1", "nvme3:1"});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(Has(p.status(), "nvme2n1: the extents' span nvme2n1 LBAs 2097151..2097152")) << p.status();
}

TEST(FanOut, NoCmbForEveryDestinationIsRefusedUnlessBounceIsAllowed) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8}, {"nvme2:1", "nvme4:1"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "no CMB reaches the source and every destination")) << p.status();
  EXPECT_TRUE(Has(p.status(), "nvme4n1")) << p.status();
  EXPECT_TRUE(Offers(p.status(), cmb::Fix::Option::kAllowBounce)) << p.status();
  absl::StatusOr<cmb::CopyPlan> b = tr.Plan({.count = 8, .allow_bounce = true}, {"nvme2:1", "nvme4:1"});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->method, cmb::CopyMethod::kBounce);
  EXPECT_EQ(b->fanout.size(), 1u);
}

}  // namespace

namespace {

TEST(ExtentList, ParsesLinesCommentsAndHex) {
  absl::StatusOr<std::vector<cmb::Extent>> e = cmb::ParseExtents("0 4096 2048\n# note\n\n9000\t100 8  # tail\r\n0x10 0x20 0x1");
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ((*e)[0].dst_lba, 4096u);
  EXPECT_EQ((*e)[1].src_lba, 9000u);
  EXPECT_EQ((*e)[1].count, 8u);
  EXPECT_EQ((*e)[2].src_lba, 16u);
  EXPECT_TRUE(cmb::ParseExtents("").ok());
}

TEST(ExtentList, BadLinesAreNamed) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {{"0 1 2\n1 2\n", "line 2: want SRC_LBA DST_LBA COUNT, got 2 field(s)"},
               {"0 1 2 3\n", "got 4 field(s)"},
               {"0 x 2\n", "line 1: 'x' is not an unsigned integer"},
               {"0 1 0\n", "COUNT is 0"},
               {"18446744073709551615 0 1\n", "wraps"},
               {"-1 0 1\n", "not an unsigned integer"}};
  for (const Case& k : cases) {
    absl::StatusOr<std::vector<cmb::Extent>> e = cmb::ParseExtents(k.text);
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << k.text;
    EXPECT_TRUE(Has(e.status(), k.says)) << e.status();
  }
}

}  // namespace
