// Striping (CopyRequest::stripe) over fake sysfs trees: which further CMBs a
// plan spreads its chunks over, which it leaves out and why, for a pair and a
// fan-out. That both CMBs carry the data is checked for real by the
// vm.twocmb.stripe test (tests/vm/stripe_trace_probe.sh).
#include <gtest/gtest.h>

#include <algorithm>

#include "cmb/copy_plan.h"
#include "cmb/planner.h"
#include "cmb/namespace_spec.h"
#include "fake_sysfs.h"

namespace {

// Root port -> switch -> nvme0 (64 MiB CMB), nvme1 (source), nvme2, nvme3
// (64 MiB CMB), nvme4 (16 MiB CMB; its free memory settable), nvme6; nvme5
// (64 MiB CMB) behind its own root port, which no switch device reaches.
struct Tree {
  cmbtest::FakeSysfs t;
  cmb::System sys;
  static constexpr const char* kNvme4 =
      "/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:04.0/0000:08:00.0";
  explicit Tree(uint64_t nvme4_available = 0) {
    std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
    std::string up = t.AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
    t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6), "0000:03:00.0", "nvme0", {.cmb_mb = 64});
    t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1");
    t.AddNvme(t.AddBridge(up, "0000:02:02.0", 6), "0000:05:00.0", "nvme2");
    t.AddNvme(t.AddBridge(up, "0000:02:03.0", 6), "0000:06:00.0", "nvme3", {.cmb_mb = 64});
    t.AddNvme(t.AddBridge(up, "0000:02:04.0", 6), "0000:08:00.0", "nvme4", {.cmb_mb = 16});
    t.AddNvme(t.AddBridge(t.HostBridge(), "0000:00:1d.0", 4), "0000:07:00.0", "nvme5", {.cmb_mb = 64});
    t.AddNvme(t.AddBridge(up, "0000:02:05.0", 6), "0000:09:00.0", "nvme6");
    if (nvme4_available) t.Write(std::string(kNvme4) + "/p2pmem/available", std::to_string(nvme4_available) + "\n");
    sys = *cmb::Discover(t.root());
  }
  cmb::NamespaceRef Ref(const std::string& spec) { return *cmb::ResolveNamespace(t.root(), sys, spec); }
  absl::StatusOr<cmb::CopyPlan> Plan(cmb::CopyRequest req, const std::vector<std::string>& dsts = {"nvme2:1"}) {
    req.src = Ref("nvme1:1");
    std::vector<cmb::NamespaceRef> refs;
    for (const std::string& d : dsts) refs.push_back(Ref(d));
    return cmb::PlanFanOut(t.root(), sys, req, refs);
  }
};

cmb::PciAddress Bdf(const char* s) { return *cmb::PciAddress::Parse(s); }

std::vector<std::string> Bdfs(const std::vector<cmb::PciAddress>& v) {
  std::vector<std::string> out;
  for (const cmb::PciAddress& a : v) out.push_back(a.ToString());
  return out;
}

// The reason that starts with `prefix`, or "" when none does.
std::string Reason(const cmb::CopyPlan& p, const std::string& prefix) {
  for (const std::string& r : p.reasons)
    if (r.rfind(prefix, 0) == 0) return r;
  return "";
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(Stripe, JoinsEveryThirdPartyCmbThatReachesBothEnds) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 100000, .stripe = true});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->method, cmb::CopyMethod::kP2p);
  EXPECT_EQ(p->provider->ToString(), "0000:03:00.0");
  EXPECT_EQ(Bdfs(p->stripe), (std::vector<std::string>{"0000:06:00.0", "0000:08:00.0"}));
  ASSERT_EQ(p->paths.size(), 6u) << "two paths (to src, to dst) per CMB";
  for (size_t i = 0; i < 3; ++i) {
    const std::string cmb = i == 0 ? "0000:03:00.0" : p->stripe[i - 1].ToString();
    EXPECT_EQ(p->paths[2 * i].provider.ToString(), cmb);
    EXPECT_EQ(p->paths[2 * i].client.ToString(), "0000:04:00.0");
    EXPECT_EQ(p->paths[2 * i + 1].client.ToString(), "0000:05:00.0");
    EXPECT_EQ(p->paths[2 * i + 1].verdict, cmb::PathVerdict::kSwitch);
  }
  // 16 chunks over 3 CMBs: 6, 5, 5.
  EXPECT_EQ(p->qd, 16u);
  std::string r = Reason(*p, "stripe: chunks alternate over 3 CMBs");
  EXPECT_TRUE(Contains(r, "0000:03:00.0 (6 chunks)") && Contains(r, "0000:08:00.0 (nvme4, 5 chunks)")) << r;
  r = Reason(*p, "stripe: not nvme5 (0000:07:00.0)");
  EXPECT_TRUE(Contains(r, "unsupported")) << r;
  // Without `stripe`, one CMB as before.
  absl::StatusOr<cmb::CopyPlan> one = tr.Plan({.count = 100000});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_TRUE(one->stripe.empty());
  EXPECT_EQ(one->paths.size(), 2u);
  EXPECT_EQ(Reason(*one, "stripe"), "");
}

TEST(Stripe, ViaComesFirst) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 100000, .via = Bdf("0000:06:00.0"), .stripe = true});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->provider->ToString(), "0000:06:00.0");
  EXPECT_EQ(Bdfs(p->stripe), (std::vector<std::string>{"0000:03:00.0", "0000:08:00.0"}));
}

TEST(Stripe, AnEndsOwnCmbDoesNotJoin) {
  Tree tr;
  // The destination nvme3 owns its CMB: it stays out; nvme4's joins.
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8192, .via = Bdf("0000:03:00.0"), .stripe = true}, {"nvme3:1"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Bdfs(p->stripe), (std::vector<std::string>{"0000:08:00.0"}));
  EXPECT_TRUE(Contains(Reason(*p, "stripe: not nvme3 (0000:06:00.0)"), "only third-party CMBs join"))
      << Reason(*p, "stripe: not nvme3");
  EXPECT_FALSE(p->own_cmb) << "the provider is nvme0's";
}

TEST(Stripe, ACmbWithoutMemoryForItsShareIsLeftOut) {
  // 16 x 512 KiB over 3 CMBs: nvme4's share is 5 chunks (2.5 MiB); it has 2 MiB free.
  // Without it, 16 over 2: nvme3's share 8 chunks, which its 64 MiB hold.
  Tree tr(2u << 20);
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 100000, .stripe = true});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Bdfs(p->stripe), (std::vector<std::string>{"0000:06:00.0"}));
  std::string r = Reason(*p, "stripe: not nvme4 (0000:08:00.0)");
  EXPECT_TRUE(Contains(r, "2097152 bytes of its CMB are free, its share is 2621440")) << r;
  EXPECT_EQ(p->paths.size(), 4u);
}

TEST(Stripe, EveryCmbHoldsAtLeastOneChunk) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 100000, .qd = 2, .stripe = true});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->stripe.size(), 1u);
  EXPECT_TRUE(Contains(Reason(*p, "stripe: 2 of 3 CMBs"), "queue depth 2")) << Reason(*p, "stripe: 2");
  // One chunk in all: the copy goes through the provider alone, and says so.
  p = tr.Plan({.count = 8, .stripe = true});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->qd, 1u);
  EXPECT_TRUE(p->stripe.empty());
  EXPECT_NE(Reason(*p, "stripe: no other CMB can share the copy; through 0000:03:00.0 alone"), "");
}

TEST(Stripe, WithOneUsableCmbTheCopyProceedsThroughIt) {
  // The CMB of the source's switch, and one no end reaches (behind another root port).
  cmbtest::FakeSysfs t;
  std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
  std::string up = t.AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
  t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6), "0000:03:00.0", "nvme0", {.cmb_mb = 64});
  t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1");
  t.AddNvme(t.AddBridge(up, "0000:02:02.0", 6), "0000:05:00.0", "nvme2");
  t.AddNvme(t.AddBridge(t.HostBridge(), "0000:00:1d.0", 4), "0000:07:00.0", "nvme3", {.cmb_mb = 64});
  cmb::System sys = *cmb::Discover(t.root());
  cmb::CopyRequest req{.src = *cmb::ResolveNamespace(t.root(), sys, "nvme1:1"),
                       .dst = *cmb::ResolveNamespace(t.root(), sys, "nvme2:1"), .count = 100000, .stripe = true};
  absl::StatusOr<cmb::CopyPlan> p = cmb::PlanCopy(t.root(), sys, req);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->method, cmb::CopyMethod::kP2p);
  EXPECT_EQ(p->provider->ToString(), "0000:03:00.0");
  EXPECT_TRUE(p->stripe.empty());
  EXPECT_EQ(p->paths.size(), 2u);
  EXPECT_NE(Reason(*p, "stripe: not nvme3 (0000:07:00.0)"), "");
  EXPECT_NE(Reason(*p, "stripe: no other CMB can share the copy; through 0000:03:00.0 alone"), "");
}

TEST(Stripe, AFanOutsMembersReachEveryDestination) {
  Tree tr;
  // nvme4 is a destination now: its CMB stays out; nvme3's reaches src and both.
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8192, .stripe = true}, {"nvme2:1", "nvme4:1"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->provider->ToString(), "0000:03:00.0");
  EXPECT_EQ(Bdfs(p->stripe), (std::vector<std::string>{"0000:06:00.0"}));
  ASSERT_EQ(p->paths.size(), 6u) << "each CMB to the source and both destinations";
  EXPECT_EQ(p->paths[3].provider.ToString(), "0000:06:00.0");
  EXPECT_EQ(p->paths[3].client.ToString(), "0000:04:00.0");
  EXPECT_EQ(p->paths[5].client.ToString(), "0000:08:00.0");
  EXPECT_TRUE(Contains(Reason(*p, "stripe: not nvme4 (0000:08:00.0)"), "only third-party CMBs join"));
  EXPECT_NE(Reason(*p, "stripe: chunks alternate over 2 CMBs"), "");
}

TEST(Stripe, ABounceIsNotStriped) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8192, .method = cmb::CopyMethod::kBounce, .stripe = true},
                                            {"nvme2:1", "nvme6:1"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->method, cmb::CopyMethod::kBounce);
  EXPECT_TRUE(p->stripe.empty());
  EXPECT_NE(Reason(*p, "stripe: not striped: method bounce"), "");
}

}  // namespace
