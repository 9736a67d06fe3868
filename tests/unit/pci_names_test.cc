// PCI names (cmb/pci_names.h) from a pci.ids the test brings, under a fake
// tree: names as lspci gives them, hex IDs without the file, nothing from a
// malformed one, and a replaced file read again.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <tuple>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "cmb/p2p_path.h"
#include "cmb/pci_names.h"
#include "fake_sysfs.h"
#include "run_command.h"
#include "test_pci_ids.h"

namespace {

using cmbtest::kPciIds;
constexpr const char* kIdsPath = cmbtest::kPciIdsPath;

TEST(PciNames, FromThePciIdsOfTheTree) {
  cmbtest::FakeSysfs t;
  t.Write(kIdsPath, kPciIds);
  EXPECT_EQ(cmb::PciDeviceName(t.root(), 0x1b36, 0x0010), "Red Hat, Inc. QEMU NVM Express Controller");
  EXPECT_EQ(cmb::PciDeviceLabel(t.root(), 0x8086, 0x29c0),
            "Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller [8086:29c0]");
  // lspci's words for a device the list does not know, of a vendor it does.
  EXPECT_EQ(cmb::PciDeviceName(t.root(), 0x1b36, 0x0001), "Red Hat, Inc. Device 0001");
  EXPECT_EQ(cmb::PciDeviceName(t.root(), 0x1234, 0x0001), std::nullopt);
  EXPECT_EQ(cmb::PciDeviceLabel(t.root(), 0x1234, 0x0001), "1234:0001");
  EXPECT_EQ(cmb::PciClassName(t.root(), 0x010802), "Non-Volatile memory controller");
  EXPECT_EQ(cmb::PciClassName(t.root(), 0x060400), "PCI bridge");
  // The base class with the number, as lspci says it.
  EXPECT_EQ(cmb::PciClassName(t.root(), 0x010600), "Mass storage controller [0106]");
  EXPECT_EQ(cmb::PciClassName(t.root(), 0x0c0330), std::nullopt);
}

TEST(PciNames, WithoutPciIdsHexIds) {
  cmbtest::FakeSysfs t;  // no usr/share/misc/pci.ids, whatever the host has
  EXPECT_EQ(cmb::PciDeviceName(t.root(), 0x1b36, 0x0010), std::nullopt);
  EXPECT_EQ(cmb::PciDeviceLabel(t.root(), 0x1b36, 0x0010), "1b36:0010");
  EXPECT_EQ(cmb::PciClassName(t.root(), 0x010802), std::nullopt);
  EXPECT_EQ(cmb::PciIdString(0x8086, 0x0b25), "8086:0b25");
}

TEST(PciNames, MalformedPciIdsNamesNothingAndDoesNotExit) {
  cmbtest::FakeSysfs t;
  t.Write(kIdsPath, "1b36  Red Hat, Inc.\n\t0010  QEMU NVM Express Controller\n\tzz\n");
  EXPECT_EQ(cmb::PciDeviceName(t.root(), 0x1b36, 0x0010), std::nullopt);
  EXPECT_EQ(cmb::PciDeviceLabel(t.root(), 0x1b36, 0x0010), "1b36:0010");
  t.Write(kIdsPath, "");  // empty: no names either
  EXPECT_EQ(cmb::PciDeviceName(t.root(), 0x1b36, 0x0010), std::nullopt);
}

TEST(PciNames, AReplacedFileIsReadAgain) {
  cmbtest::FakeSysfs t;
  t.Write(kIdsPath, kPciIds);
  EXPECT_EQ(cmb::PciDeviceName(t.root(), 0x1b36, 0x0010), "Red Hat, Inc. QEMU NVM Express Controller");
  t.Remove(kIdsPath);
  t.Write(kIdsPath, "1b36  Red Hat\n\t0010  NVMe\n");
  EXPECT_EQ(cmb::PciDeviceName(t.root(), 0x1b36, 0x0010), "Red Hat NVMe");
  t.Remove(kIdsPath);
  EXPECT_EQ(cmb::PciDeviceName(t.root(), 0x1b36, 0x0010), std::nullopt);
}

TEST(PciNames, ManyThreadsOneDatabase) {
  cmbtest::FakeSysfs t;
  t.Write(kIdsPath, kPciIds);
  std::vector<std::thread> threads;
  std::vector<int> good(8, 0);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 200; ++k)
        good[i] += cmb::PciDeviceName(t.root(), 0x1b36, k % 2 ? 0x0010 : 0x000c).has_value();
    });
  for (std::thread& th : threads) th.join();
  for (int g : good) EXPECT_EQ(g, 200);
}

// A P2P verdict's reason names the host bridge the whitelist decided on.
TEST(PciNames, VerdictReasonsNameTheHostBridge) {
  for (auto [device, name, verdict] :
       {std::tuple{0x29c0, "(Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller [8086:29c0]) is not in",
                   cmb::PathVerdict::kUnsupported},
        {0x0b25, "(Intel Corporation Sapphire Rapids DSA [8086:0b25]) is in", cmb::PathVerdict::kHostBridge}}) {
    cmbtest::FakeSysfs t;
    t.SetKernel("7.3.4", std::nullopt);
    std::string hb = t.HostBridge("pci0000:00", 0x8086, static_cast<uint16_t>(device));
    t.AddNvme(t.AddBridge(hb, "0000:00:1c.0"), "0000:01:00.0", "nvme0", {.cmb_mb = 64});
    t.AddNvme(t.AddBridge(hb, "0000:00:1c.1"), "0000:02:00.0", "nvme1");
    cmb::PciAddress prov = *cmb::PciAddress::Parse("0000:01:00.0"), client = *cmb::PciAddress::Parse("0000:02:00.0");
    absl::StatusOr<cmb::P2pPath> bare = cmb::PredictP2pPath(t.root(), prov, client);
    ASSERT_TRUE(bare.ok()) << bare.status();
    EXPECT_NE(bare->reason.find(absl::StrFormat("(8086:%04x)", device)), std::string::npos) << bare->reason;
    t.Write(kIdsPath, kPciIds);
    absl::StatusOr<cmb::P2pPath> named = cmb::PredictP2pPath(t.root(), prov, client);
    ASSERT_TRUE(named.ok()) << named.status();
    EXPECT_EQ(named->verdict, verdict);
    EXPECT_NE(named->reason.find(name), std::string::npos) << named->reason;
  }
}

// cmbinfo names controllers, bridges and host bridges in its text and JSON
// from the tree's pci.ids, and shows hex IDs without it.
TEST(CmbinfoNames, TextAndJson) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  std::string cmd = "CMB_SYSFS_ROOT='" + t.dir() + "' " CMBINFO_PATH;
  cmbtest::CommandResult bare = cmbtest::RunCommand(cmd + " --topology");
  ASSERT_EQ(bare.status, 0) << bare.out;
  EXPECT_NE(bare.out.find("  PCI      1b36:0010\n"), std::string::npos) << bare.out;
  EXPECT_NE(bare.out.find("`- 0000:01:00.0  bridge 104c:8232, no ACS"), std::string::npos) << bare.out;
  EXPECT_NE(bare.out.find("  pci0000:00  host bridge 0000:00:00.0 8086:29c0\n"), std::string::npos) << bare.out;
  t.Write(kIdsPath, kPciIds);
  cmbtest::CommandResult named = cmbtest::RunCommand(cmd + " --topology");
  ASSERT_EQ(named.status, 0) << named.out;
  EXPECT_NE(named.out.find("  PCI      Red Hat, Inc. QEMU NVM Express Controller [1b36:0010]\n"), std::string::npos)
      << named.out;
  EXPECT_NE(named.out.find("`- 0000:01:00.0  bridge Texas Instruments XIO3130 PCI Express Switch (Upstream) "
                           "[104c:8232], no ACS"),
            std::string::npos)
      << named.out;
  EXPECT_NE(named.out.find("host bridge 0000:00:00.0 Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller"),
            std::string::npos)
      << named.out;
  EXPECT_NE(named.out.find("`- 0000:03:00.0  nvme0 (Red Hat, Inc. QEMU NVM Express Controller [1b36:0010]) "
                           "[CMB p2pmem]"),
            std::string::npos)
      << named.out;
}

TEST(CmbinfoNames, JsonTopologyAndControllerNames) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  std::string cmd = "CMB_SYSFS_ROOT='" + t.dir() + "' " CMBINFO_PATH " -o json";
  nlohmann::json bare = nlohmann::json::parse(cmbtest::RunCommand(cmd).out);
  EXPECT_EQ(bare["controllers"][0]["pci_id"], "1b36:0010");
  EXPECT_TRUE(bare["controllers"][0]["pci_name"].is_null());
  t.Write(kIdsPath, kPciIds);
  nlohmann::json j = nlohmann::json::parse(cmbtest::RunCommand(cmd).out);
  EXPECT_EQ(j["controllers"][0]["pci_name"], "Red Hat, Inc. QEMU NVM Express Controller");
  // Host bridge, root port, switch up, two down ports, two controllers: parents first.
  const nlohmann::json& topo = j["topology"];
  ASSERT_EQ(topo.size(), 7u) << topo.dump(1);
  EXPECT_EQ(topo[0]["id"], "pci0000:00");
  EXPECT_EQ(topo[0]["kind"], "host_bridge");
  EXPECT_EQ(topo[0]["address"], "0000:00:00.0");
  EXPECT_EQ(topo[0]["name"], "Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller");
  EXPECT_EQ(topo[0]["class"], "Host bridge");
  EXPECT_EQ(topo[1]["id"], "0000:00:1c.0");
  EXPECT_EQ(topo[1]["parent"], "pci0000:00");
  EXPECT_EQ(topo[1]["port"], "root_port");
  EXPECT_EQ(topo[1]["acs"]["state"], "no_redirect");
  EXPECT_EQ(topo[2]["name"], "Texas Instruments XIO3130 PCI Express Switch (Upstream)");
  EXPECT_EQ(topo[2]["pci_id"], "104c:8232");
  EXPECT_EQ(topo[2]["class"], "PCI bridge");
  EXPECT_EQ(topo[2]["port"], "switch_upstream");
  EXPECT_EQ(topo[2]["acs"]["state"], "no_capability");
  EXPECT_EQ(topo[3]["port"], "switch_downstream");
  EXPECT_EQ(topo[4]["kind"], "controller");
  EXPECT_EQ(topo[4]["controller"], "nvme0");
  EXPECT_EQ(topo[4]["parent"], "0000:02:00.0");
  EXPECT_EQ(topo[4]["class"], "Non-Volatile memory controller");
  EXPECT_TRUE(topo[4]["acs"].is_null());
}

}  // namespace
