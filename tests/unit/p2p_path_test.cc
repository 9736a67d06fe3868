// P2P path verdicts over fake topologies, one per branch of
// calc_map_type_and_dist() in drivers/pci/p2pdma.c.
#include <gtest/gtest.h>

#include "cmb/p2p_path.h"
#include "fake_sysfs.h"

namespace {

using cmbtest::FakeSysfs;

cmb::PciAddress A(const char* s) { return *cmb::PciAddress::Parse(s); }

// Root port 00:1c.0 -> switch up 01:00.0 -> down 02:0N.0 -> NVMe 0(3+N):00.0.
struct SwitchTree {
  FakeSysfs t;
  explicit SwitchTree(std::optional<uint16_t> dp1_acs = uint16_t{0}) {
    std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
    std::string up = t.AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
    std::string d0 = t.AddBridge(up, "0000:02:00.0", 6);
    std::string d1 = t.AddBridge(up, "0000:02:01.0", 6, dp1_acs);
    std::string d2 = t.AddBridge(up, "0000:02:02.0", 6);
    t.AddNvme(d0, "0000:03:00.0", "nvme0", {.cmb_mb = 64});
    t.AddNvme(d1, "0000:04:00.0", "nvme1");
    t.AddNvme(d2, "0000:05:00.0", "nvme2");
  }
};

TEST(P2pPath, SameSwitchIsBusAddressDistanceFour) {
  SwitchTree s;
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(s.t.root(), A("0000:03:00.0"), A("0000:04:00.0"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->verdict, cmb::PathVerdict::kSwitch);
  EXPECT_EQ(p->distance, 4);
  EXPECT_EQ(p->common_bridge->ToString(), "0000:01:00.0");
  EXPECT_TRUE(p->fix.empty());
  EXPECT_NE(p->reason.find("0000:01:00.0"), std::string::npos);
}

TEST(P2pPath, SameFunctionIsDistanceZero) {
  SwitchTree s;
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(s.t.root(), A("0000:03:00.0"), A("0000:03:00.0"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->verdict, cmb::PathVerdict::kSwitch);
  EXPECT_EQ(p->distance, 0);
  EXPECT_NE(p->reason.find("same PCI function"), std::string::npos);
}

TEST(P2pPath, TwoFunctionsOfOneDeviceAreDistanceTwo) {
  FakeSysfs t;
  std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0");
  t.AddNvme(rp, "0000:01:00.0", "nvme0", {.cmb_mb = 64});
  t.AddNvme(rp, "0000:01:00.1", "nvme1");
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(t.root(), A("0000:01:00.0"), A("0000:01:00.1"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->verdict, cmb::PathVerdict::kSwitch);
  EXPECT_EQ(p->distance, 2);
}

TEST(P2pPath, AcsRedirectOnDownstreamPortIsUnsupportedWithFix) {
  SwitchTree s(uint16_t{0x001d});  // SV RR CR UF on 02:01.0
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(s.t.root(), A("0000:03:00.0"), A("0000:04:00.0"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->verdict, cmb::PathVerdict::kUnsupported);
  ASSERT_EQ(p->acs_redirect.size(), 1u);
  EXPECT_EQ(p->acs_redirect[0].ToString(), "0000:02:01.0");
  EXPECT_NE(p->fix.find("pci=disable_acs_redir=0000:02:01.0"), std::string::npos);
  // The untouched pair under the same switch stays direct.
  absl::StatusOr<cmb::P2pPath> q = cmb::PredictP2pPath(s.t.root(), A("0000:03:00.0"), A("0000:05:00.0"));
  EXPECT_EQ(q->verdict, cmb::PathVerdict::kSwitch);
}

TEST(P2pPath, AcsRedirectWithZenCpuGoesThroughHostBridge) {
  SwitchTree s(uint16_t{0x0004});
  s.t.SetCpu("AuthenticAMD", 0x19);
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(s.t.root(), A("0000:03:00.0"), A("0000:04:00.0"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->verdict, cmb::PathVerdict::kHostBridge);
  EXPECT_EQ(p->distance, 4);
}

TEST(P2pPath, UnreadableAcsIsUnknownNeverOk) {
  SwitchTree s;
  s.t.TruncateConfigs();
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(s.t.root(), A("0000:03:00.0"), A("0000:04:00.0"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->verdict, cmb::PathVerdict::kUnknown);
  EXPECT_FALSE(p->acs_unknown.empty());
  EXPECT_NE(p->reason.find("without root"), std::string::npos);
}

// Each device on its own root port of QEMU q35 (host bridge 8086:29c0).
struct RootPortTree {
  FakeSysfs t;
  explicit RootPortTree(uint16_t hb_device = 0x29c0) {
    std::string hb = t.HostBridge("pci0000:00", 0x8086, hb_device);
    std::string r0 = t.AddBridge(hb, "0000:00:1c.0");
    std::string r1 = t.AddBridge(hb, "0000:00:1c.1");
    t.AddNvme(r0, "0000:01:00.0", "nvme0", {.cmb_mb = 64});
    t.AddNvme(r1, "0000:02:00.0", "nvme1");
  }
};

TEST(P2pPath, SeparateRootPortsNotWhitelistedIsUnsupported) {
  RootPortTree r;
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(r.t.root(), A("0000:01:00.0"), A("0000:02:00.0"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->verdict, cmb::PathVerdict::kUnsupported);
  EXPECT_EQ(p->distance, 4);  // full chains: 2 + 2
  EXPECT_NE(p->reason.find("8086:29c0"), std::string::npos);
  EXPECT_NE(p->reason.find("is not in the P2PDMA whitelist of Linux "), std::string::npos) << p->reason;
  EXPECT_NE(p->fix.find("switch"), std::string::npos);
}

TEST(P2pPath, SeparateRootPortsWhitelistedHostBridge) {
  RootPortTree r(0x2030);  // Skylake-E, no same-host-bridge requirement
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(r.t.root(), A("0000:01:00.0"), A("0000:02:00.0"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->verdict, cmb::PathVerdict::kHostBridge);
  EXPECT_NE(p->reason.find("is in the kernel's P2PDMA whitelist"), std::string::npos);
}

TEST(P2pPath, SeparateRootPortsZenCpu) {
  RootPortTree r;
  r.t.SetCpu("AuthenticAMD", 0x17);
  EXPECT_EQ(cmb::PredictP2pPath(r.t.root(), A("0000:01:00.0"), A("0000:02:00.0"))->verdict,
            cmb::PathVerdict::kHostBridge);
  r.t.SetCpu("AuthenticAMD", 0x15);  // pre-Zen
  EXPECT_EQ(cmb::PredictP2pPath(r.t.root(), A("0000:01:00.0"), A("0000:02:00.0"))->verdict,
            cmb::PathVerdict::kUnsupported);
}

TEST(P2pPath, TwoHostBridgesNeedBothWhitelistedWithoutSameBridgeFlag) {
  FakeSysfs t;
  std::string h0 = t.HostBridge("pci0000:00", 0x8086, 0x3c00);  // requires same host bridge
  std::string h1 = t.HostBridge("pci0000:80", 0x8086, 0x3c00);
  t.AddNvme(t.AddBridge(h0, "0000:00:02.0"), "0000:01:00.0", "nvme0", {.cmb_mb = 64});
  t.AddNvme(t.AddBridge(h1, "0000:80:02.0"), "0000:81:00.0", "nvme1");
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(t.root(), A("0000:01:00.0"), A("0000:81:00.0"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->verdict, cmb::PathVerdict::kUnsupported);
  EXPECT_NE(p->reason.find("only for devices under the same host bridge"), std::string::npos);
}

TEST(P2pPath, UnknownDeviceIsAnError) {
  SwitchTree s;
  absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(s.t.root(), A("0000:03:00.0"), A("0000:09:00.0"));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("0000:09:00.0"), std::string::npos);
}

}  // namespace
