// Kernel rules by release (kernel_rules.h): every rule on both sides of the
// release it arrived in, distribution release strings, and the predictor
// following the kernel a tree names (/proc/sys/kernel/osrelease).
#include <cerrno>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "cmb/kernel_rules.h"
#include "cmb/p2p_path.h"
#include "fake_sysfs.h"

namespace {

using cmb::KernelRules;
using cmb::KernelVersion;

TEST(KernelRelease, DistributionStringsParse) {
  struct Case {
    const char* release;
    KernelVersion want;
  } cases[] = {{"7.3.4+deb13-amd64", {7, 3, 4}},    {"6.8.0-151-generic", {6, 8, 0}},
               {"5.14.0-427.el9.x86_64", {5, 14, 0}}, {"6.12.117", {6, 12, 117}},
               {"6.1.0-28-amd64", {6, 1, 0}},         {"7.0", {7, 0, 0}},
               {"6.19-rc3", {6, 19, 0}},              {" 6.17.2\n", {6, 17, 2}}};
  for (const Case& c : cases) {
    std::optional<KernelVersion> v = cmb::ParseKernelRelease(c.release);
    ASSERT_TRUE(v.has_value()) << c.release;
    EXPECT_EQ(*v, c.want) << c.release;
  }
  for (const char* bad : {"", "linux", "7", "7.", ".3.4", "x7.3"})
    EXPECT_FALSE(cmb::ParseKernelRelease(bad).has_value()) << "'" << bad << "'";
}

TEST(KernelRules, EachFactOnBothSidesOfItsRelease) {
  struct Boundary {
    const char* before;
    const char* after;
    bool KernelRules::*fact;
    const char* name;
  } boundaries[] = {{"5.18.19", "5.19.0", &KernelRules::passthrough, "passthrough"},
                    {"6.1.0-28-amd64", "6.2.0", &KernelRules::p2pmem_allocate, "p2pmem_allocate"},
                    {"6.18.9", "6.19.0", &KernelRules::sqe_mixed, "sqe_mixed"},
                    {"5.1.21", "5.2.0", &KernelRules::amd_zen_rule, "amd_zen_rule"}};
  for (const Boundary& b : boundaries) {
    EXPECT_FALSE(KernelRules::For(b.before).*b.fact) << b.name << " in " << b.before;
    EXPECT_TRUE(KernelRules::For(b.after).*b.fact) << b.name << " in " << b.after;
  }
  // 6.17: BLK_STS_INVAL for an unreachable pair, and no mixing in one command.
  EXPECT_EQ(KernelRules::For("6.16.12").unreachable_errno, EREMOTEIO);
  EXPECT_TRUE(KernelRules::For("6.16.12").mixed_memory_per_command);
  EXPECT_EQ(KernelRules::For("6.17.0").unreachable_errno, EINVAL);
  EXPECT_FALSE(KernelRules::For("6.17.0").mixed_memory_per_command);
  EXPECT_EQ(KernelRules::For("6.12.117").unreachable_errno, EREMOTEIO);
  EXPECT_EQ(KernelRules::For("7.3.4+deb13-amd64").unreachable_errno, EINVAL);
}

// 56cf7ef0d490 (nvme_map_cmb skips a misaligned CMB): mainline 6.14; in
// 6.12.y from 6.12.23 (its stable review); in 6.1.y at a point not known, but
// read in 6.1.176; older series that took it at unknown points are maybes.
TEST(KernelRules, CmbAlignmentCheckOnBothSidesOfEachArrival) {
  using cmb::RulePresence;
  struct Case {
    const char* release;
    RulePresence want;
  } cases[] = {{"6.13.0", RulePresence::kMaybe},    {"6.14.0", RulePresence::kYes},
               {"6.12.22", RulePresence::kNo},      {"6.12.23", RulePresence::kYes},
               {"6.12.117+deb13-amd64", RulePresence::kYes},
               {"6.1.175", RulePresence::kMaybe},   {"6.1.176", RulePresence::kYes},
               {"6.6.80", RulePresence::kMaybe},    {"5.15.190", RulePresence::kNo},
               {"6.11.11", RulePresence::kNo},      {"7.3.4+deb13-amd64", RulePresence::kYes},
               {"not a release", RulePresence::kYes}};
  for (const Case& c : cases)
    EXPECT_EQ(KernelRules::For(c.release).cmb_alignment_check, c.want) << c.release;
  std::string arrival = KernelRules::Arrival(cmb::KernelFacts::CmbAlignment());
  EXPECT_EQ(arrival.find("56cf7ef0d490, Linux 6.14"), 0u) << arrival;
  EXPECT_TRUE(absl::StrContains(arrival, "6.12.y from 6.12.23")) << arrival;
  EXPECT_TRUE(absl::StrContains(arrival, "6.1.y (seen in 6.1.176)")) << arrival;
  EXPECT_TRUE(absl::StrContains(arrival, "5.10.y, 6.6.y, 6.13.y at points not known")) << arrival;
  EXPECT_EQ(KernelRules::kMemremapCompatAlign, 2u << 20);
}

// 6.19's pool-less providers (372d6d1b8ae3) and 7.1's refusal of functions
// with unmappable BARs (951ebc18d181), each on both sides of its release.
TEST(KernelRules, ProviderRulesOnBothSidesOfTheirReleases) {
  EXPECT_FALSE(KernelRules::For("6.18.9").poolless_providers);
  EXPECT_TRUE(KernelRules::For("6.19.0").poolless_providers);
  EXPECT_FALSE(KernelRules::For("7.0.12").non_mappable_bars_refused);
  EXPECT_TRUE(KernelRules::For("7.1.0").non_mappable_bars_refused);
  EXPECT_STREQ(cmb::KernelFacts::PoollessProviders().commit, "372d6d1b8ae3");
  EXPECT_STREQ(cmb::KernelFacts::NonMappableBars().commit, "951ebc18d181");
}

// How multi-page P2P data is described: in the command up to 6.12 (read),
// a host-memory SGL list from 7.3 (read), unknown in between (not read).
TEST(KernelRules, MultiPageP2pDataPointerByRelease) {
  EXPECT_EQ(KernelRules::For("6.1.0-28-amd64").multi_page_p2p, cmb::P2pDataPointer::kInCommand);
  EXPECT_EQ(KernelRules::For("6.12.117").multi_page_p2p, cmb::P2pDataPointer::kInCommand);
  EXPECT_EQ(KernelRules::For("6.13.0").multi_page_p2p, cmb::P2pDataPointer::kUnknown);
  EXPECT_EQ(KernelRules::For("7.2.9").multi_page_p2p, cmb::P2pDataPointer::kUnknown);
  EXPECT_EQ(KernelRules::For("7.3.0").multi_page_p2p, cmb::P2pDataPointer::kHostList);
  EXPECT_EQ(KernelRules::For("7.3.4+deb13-amd64").multi_page_p2p, cmb::P2pDataPointer::kHostList);
  EXPECT_EQ(KernelRules::For("8.0.1").multi_page_p2p, cmb::P2pDataPointer::kHostList) << "newer: newest rules";
  EXPECT_EQ(KernelRules::For("not-a-version").multi_page_p2p, cmb::P2pDataPointer::kHostList);
  EXPECT_STREQ(cmb::P2pDataPointerName(cmb::P2pDataPointer::kHostList), "host_list");
}

TEST(KernelRules, EveryWhitelistEntryOnBothSidesOfItsArrival) {
  ASSERT_FALSE(KernelRules::AllWhitelist().empty());
  for (const cmb::WhitelistRule& w : KernelRules::AllWhitelist()) {
    KernelVersion s = w.since;
    std::string at = s.ToString();
    std::string before = KernelVersion{s.major, s.minor - 1, 99}.ToString();
    if (s.minor == 0) continue;  // no such entry; kept general
    EXPECT_EQ(KernelRules::For(at).Has(w), cmb::RulePresence::kYes) << w.what << " at " << at;
    cmb::RulePresence want = w.stable ? cmb::RulePresence::kMaybe : cmb::RulePresence::kNo;
    EXPECT_EQ(KernelRules::For(before).Has(w), want) << w.what << " at " << before;
    if (w.stable) {
      std::string older = KernelVersion{s.major, s.minor - 2, 0}.ToString();
      EXPECT_EQ(KernelRules::For(older).Has(w), cmb::RulePresence::kNo) << w.what << " at " << older;
    }
  }
}

TEST(KernelRules, NewerAndUnparsableKernelsUseTheNewestRulesAndSaySo) {
  KernelRules newer = KernelRules::For("7.9.1-custom");
  EXPECT_TRUE(newer.newer_than_known);
  EXPECT_EQ(newer.rules_version, "7.3");
  EXPECT_TRUE(absl::StrContains(newer.Describe(), "newer than the newest rules")) << newer.Describe();
  KernelRules odd = KernelRules::For("vendor-kernel");
  EXPECT_FALSE(odd.version.has_value());
  EXPECT_EQ(odd.rules_version, "7.3");
  EXPECT_EQ(odd.unreachable_errno, EINVAL);
  EXPECT_TRUE(absl::StrContains(odd.Describe(), "not a Linux version")) << odd.Describe();
  KernelRules lts = KernelRules::For("6.12.117");
  EXPECT_EQ(lts.rules_version, "6.12");
  EXPECT_FALSE(lts.newer_than_known);
  EXPECT_EQ(lts.Describe(), "rules of Linux 6.12 (kernel 6.12.117)");
}

// Two root ports under a host bridge whose first device is `vendor:device`,
// on the kernel `release`: the verdict follows that kernel's whitelist.
cmb::P2pPath Predict(uint16_t vendor, uint16_t device, const std::string& release) {
  cmbtest::FakeSysfs t;
  std::string hb = t.HostBridge("pci0000:00", vendor, device);
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.0"), "0000:01:00.0", "nvme0", {.cmb_mb = 64});
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.1"), "0000:02:00.0", "nvme1");
  t.SetKernel(release, std::nullopt);
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(t.root(), *cmb::PciAddress::Parse("0000:01:00.0"),
                                                       *cmb::PciAddress::Parse("0000:02:00.0"));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : cmb::P2pPath{};
}

TEST(KernelRules, PredictorFollowsTheKernelTheTreeNames) {
  // NVIDIA Vera Rubin host bridge: 7.3 and later.
  EXPECT_EQ(Predict(0x10de, 0x2f95, "7.2.8").verdict, cmb::PathVerdict::kUnsupported);
  EXPECT_TRUE(absl::StrContains(Predict(0x10de, 0x2f95, "7.2.8").reason, "since Linux 7.3, so a newer kernel allows it"))
      << Predict(0x10de, 0x2f95, "7.2.8").reason;
  EXPECT_EQ(Predict(0x10de, 0x2f95, "7.3.4+deb13-amd64").verdict, cmb::PathVerdict::kHostBridge);
  // Google: any device ID, 7.1 and later.
  EXPECT_EQ(Predict(0x1ae0, 0x1234, "7.0.3").verdict, cmb::PathVerdict::kUnsupported);
  EXPECT_EQ(Predict(0x1ae0, 0x1234, "7.1.0").verdict, cmb::PathVerdict::kHostBridge);
  // Intel DSA on SPR: 7.2, and in 7.1.y stable from a release not known here.
  EXPECT_EQ(Predict(0x8086, 0x0b25, "7.0.9").verdict, cmb::PathVerdict::kUnsupported);
  cmb::P2pPath maybe = Predict(0x8086, 0x0b25, "7.1.6");
  EXPECT_EQ(maybe.verdict, cmb::PathVerdict::kUnknown);
  EXPECT_TRUE(absl::StrContains(maybe.reason, "since Linux 7.2, and in 7.1.y stable")) << maybe.reason;
  EXPECT_EQ(Predict(0x8086, 0x0b25, "7.2.0").verdict, cmb::PathVerdict::kHostBridge);
  // The errno a refusal gets is the kernel's.
  EXPECT_TRUE(absl::StrContains(Predict(0x8086, 0x29c0, "6.12.117").reason, "(-EREMOTEIO"));
  EXPECT_TRUE(absl::StrContains(Predict(0x8086, 0x29c0, "7.3.4+deb13-amd64").reason, "(-EINVAL"));
}

}  // namespace
