// Discovery over fake sysfs trees laid out like the kernel's.
#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "cmb/discovery.h"
#include "fake_sysfs.h"

namespace {

using cmbtest::FakeSysfs;
using cmbtest::NvmeOptions;

TEST(Discovery, NoNvmeAtAll) {
  FakeSysfs t;
  t.Remove("/sys/class/nvme");
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  EXPECT_TRUE(sys->controllers.empty());
}

TEST(Discovery, CmbProviderDecodedWithP2pmemAndNamespace) {
  FakeSysfs t;
  std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0");
  t.AddNvme(rp, "0000:01:00.0", "nvme0", {.cmb_mb = 64, .capacity_bytes = 1ull << 30});
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  ASSERT_EQ(sys->controllers.size(), 1u);
  const cmb::Controller& c = sys->controllers[0];
  EXPECT_EQ(c.name, "nvme0");
  EXPECT_EQ(c.transport, "pcie");
  ASSERT_TRUE(c.address);
  EXPECT_EQ(c.address->ToString(), "0000:01:00.0");
  EXPECT_EQ(c.model, "QEMU NVMe Ctrl");
  EXPECT_EQ(c.serial, "serial-nvme0");
  EXPECT_EQ(c.link_speed, "2.5 GT/s PCIe");
  EXPECT_EQ(c.link_width, 1);
  ASSERT_TRUE(c.cmb);
  EXPECT_EQ(c.cmb->size_bytes, 64ull << 20);
  EXPECT_EQ(c.cmb->loc.bir, 2);
  EXPECT_TRUE(c.cmb->sz.rds && c.cmb->sz.wds);
  ASSERT_TRUE(c.p2pmem);
  EXPECT_TRUE(c.p2pmem->published);
  EXPECT_TRUE(c.p2pmem->allocate);
  EXPECT_EQ(c.p2pmem->size_bytes, 64ull << 20);
  EXPECT_EQ(c.p2pmem->available_bytes, (64ull << 20) - 65536);
  ASSERT_EQ(c.namespaces.size(), 1u);
  const cmb::Namespace& n = c.namespaces[0];
  EXPECT_EQ(n.nsid, 1u);
  EXPECT_EQ(n.generic_device, "/dev/ng0n1");
  EXPECT_EQ(n.block_device, "/dev/nvme0n1");
  EXPECT_EQ(n.lba_size, 512u);
  EXPECT_EQ(n.capacity_blocks, (1ull << 30) / 512);
  EXPECT_EQ(n.max_transfer_bytes, 512u * 1024);
  EXPECT_EQ(n.max_segments, 128u);
  EXPECT_FALSE(n.io_poll);
  EXPECT_FALSE(n.in_use());
  EXPECT_EQ(sys->kernel.p2pdma, cmb::Support::kYes);
  EXPECT_EQ(sys->Providers(), std::vector<size_t>{0});
}

TEST(Discovery, NoCmb) {
  FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0");
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  EXPECT_FALSE(sys->controllers[0].cmb);
  EXPECT_FALSE(sys->controllers[0].p2pmem);
  EXPECT_TRUE(sys->Providers().empty());
}

TEST(Discovery, PublishedZeroIsNotAProvider) {
  FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 64, .published = false, .cmbsz_flags = 0x3});
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  ASSERT_TRUE(sys->controllers[0].p2pmem);
  EXPECT_FALSE(sys->controllers[0].p2pmem->published);
  EXPECT_FALSE(sys->controllers[0].cmb->sz.rds);
  EXPECT_TRUE(sys->Providers().empty());
}

TEST(Discovery, MissingCmbAttributesWithP2pmemSaysUnknown) {
  FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 64, .cmb_attrs = false});
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  EXPECT_FALSE(sys->controllers[0].cmb);
  EXPECT_NE(sys->controllers[0].cmb_note.find("unknown"), std::string::npos);
}

TEST(Discovery, KernelWithoutAllocateAndWithoutP2pdma) {
  FakeSysfs t;
  t.SetKernel("6.12.38+deb13-cloud-amd64", "CONFIG_PCI=y\n# CONFIG_PCI_P2PDMA is not set\n");
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0");
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  EXPECT_EQ(sys->kernel.p2pdma, cmb::Support::kNo);
  EXPECT_EQ(sys->kernel.release, "6.12.38+deb13-cloud-amd64");
  EXPECT_NE(sys->kernel.evidence.find("CONFIG_PCI_P2PDMA is not set"), std::string::npos);
}

TEST(Discovery, UnregisteredCmbInKernelLogMeansNoP2pdma) {
  FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme1");
  t.Write("/dev/kmsg", "6,100,2000,-;nvme nvme1: pci function 0000:00:04.0\n"
                       "4,101,2100,-;nvme nvme1: failed to register the CMB\n");
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  EXPECT_FALSE(sys->controllers[0].cmb);
  EXPECT_NE(sys->controllers[0].cmb_note.find("failed to register"), std::string::npos);
  EXPECT_EQ(sys->kernel.p2pdma, cmb::Support::kNo);
  EXPECT_NE(sys->kernel.evidence.find("CONFIG_PCI_P2PDMA"), std::string::npos);
}

TEST(Discovery, OldKernelWithP2pdmaButNoAllocate) {
  FakeSysfs t;
  t.SetKernel("6.1.0-13-amd64", "CONFIG_PCI_P2PDMA=y\n");
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 64, .allocate = false});
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  EXPECT_FALSE(sys->controllers[0].p2pmem->allocate);
  EXPECT_EQ(sys->kernel.p2pdma, cmb::Support::kNo);
  EXPECT_NE(sys->kernel.evidence.find("predates userspace p2pmem allocation (p2pmem/allocate, 6.2)"), std::string::npos)
      << sys->kernel.evidence;
}

// Bookworm's 6.1: no P2PDMA in Debian's config, and too old for allocate even
// with it; both are said, with the kernel that has it.
TEST(Discovery, Bookworms61NamesBothMissingPiecesAndTheKernelThatHasThem) {
  FakeSysfs t;
  t.SetKernel("6.1.0-41-amd64", "CONFIG_PCI=y\n# CONFIG_PCI_P2PDMA is not set\n");
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 0});
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  EXPECT_EQ(sys->kernel.p2pdma, cmb::Support::kNo);
  const std::string& e = sys->kernel.evidence;
  EXPECT_NE(e.find("CONFIG_PCI_P2PDMA is not set"), std::string::npos) << e;
  EXPECT_NE(e.find("Linux 6.1.0-41-amd64 also predates userspace p2pmem allocation"), std::string::npos) << e;
  ASSERT_EQ(sys->kernel.fixes.size(), 1u) << "the fix is data the tools word (fix.h)";
  EXPECT_EQ(sys->kernel.fixes[0].kind, cmb::Fix::Kind::kKernel);
  EXPECT_EQ(sys->kernel.fixes[0].need, "CONFIG_PCI_P2PDMA");
  // Trixie's 6.12 has allocate's code but not P2PDMA: only the config is named.
  FakeSysfs t2;
  t2.SetKernel("6.12.57+deb13-amd64", "# CONFIG_PCI_P2PDMA is not set\n");
  t2.AddNvme(t2.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 0});
  absl::StatusOr<cmb::System> sys2 = cmb::Discover(t2.root());
  ASSERT_TRUE(sys2.ok());
  EXPECT_EQ(sys2->kernel.evidence.find("predates"), std::string::npos) << sys2->kernel.evidence;
  EXPECT_NE(sys2->kernel.evidence.find("CONFIG_PCI_P2PDMA is not set"), std::string::npos);
}

TEST(Discovery, KernelConfigUnreadableIsUnknown) {
  FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0");
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  EXPECT_EQ(sys->kernel.p2pdma, cmb::Support::kUnknown);
}

TEST(Discovery, SeveralNamespacesIn4kAndMountedOnes) {
  FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0",
            {.namespaces = 3, .lba_size = 4096, .capacity_bytes = 1ull << 32, .max_hw_sectors_kb = 128});
  // nvme0n2 mounted (259:1), nvme0n3 partition held by a dm device.
  t.Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 259:1 / /mnt/data rw - xfs /dev/nvme0n2 rw\n");
  t.Write("/sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n3/nvme0n3p1/dev", "259:7\n");
  t.Write("/sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n3/nvme0n3p1/holders/dm-0", "");
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  const auto& ns = sys->controllers[0].namespaces;
  ASSERT_EQ(ns.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ns[i].nsid, i + 1);
    EXPECT_EQ(ns[i].lba_size, 4096u);
    EXPECT_EQ(ns[i].capacity_blocks, (1ull << 32) / 4096);
    EXPECT_EQ(ns[i].max_transfer_bytes, 128u * 1024);
  }
  EXPECT_FALSE(ns[0].in_use());
  EXPECT_EQ(ns[1].mountpoints, std::vector<std::string>{"/mnt/data"});
  EXPECT_EQ(ns[2].holders, std::vector<std::string>{"dm-0"});
  EXPECT_TRUE(ns[2].in_use());
}

TEST(Discovery, SixtyFourControllersInNumericOrder) {
  FakeSysfs t;
  std::string hb = t.HostBridge();
  for (int i = 0; i < 64; ++i) {
    std::string rp = t.AddBridge(hb, absl::StrFormat("0000:00:%02x.%x", 1 + i / 8, i % 8));
    t.AddNvme(rp, absl::StrFormat("0000:%02x:00.0", i + 1), absl::StrFormat("nvme%d", i),
              {.cmb_mb = i % 2 ? 0u : 16u});
  }
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  ASSERT_EQ(sys->controllers.size(), 64u);
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(sys->controllers[i].name, absl::StrFormat("nvme%d", i));
    EXPECT_EQ(sys->controllers[i].address->bus, i + 1);
  }
  EXPECT_EQ(sys->Providers().size(), 32u);
  EXPECT_EQ(sys->FindController("nvme63")->address->bus, 64);
}

TEST(Discovery, BrokenAttributeIsAnError) {
  FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0");
  t.Write("/sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1/queue/logical_block_size", "garbage\n");
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_FALSE(sys.ok());
  EXPECT_NE(sys.status().message().find("logical_block_size"), std::string::npos);
}

TEST(SysRoot, ResolvesRelativeLinksInsideTheTree) {
  FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0");
  absl::StatusOr<std::string> r = t.root().Resolve("/sys/class/nvme/nvme0");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "/sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0");
  EXPECT_EQ(*t.root().Resolve("/sys/bus/pci/devices/0000:00:04.0"), "/sys/devices/pci0000:00/0000:00:04.0");
}

}  // namespace

// Laid out as the kernel does with intel_iommu=on (seen in the iommu topology):
// /sys/class/iommu/dmar0, and iommu_group/type on each PCI function.
TEST(Discovery, IommuAndDomainType) {
  FakeSysfs t;
  std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0");
  std::string dev = t.AddNvme(rp, "0000:01:00.0", "nvme0", {.cmb_mb = 64});
  t.Write("/sys/kernel/iommu_groups/3/type", "DMA-FQ\n");
  t.Link(dev + "/iommu_group", "../../../../kernel/iommu_groups/3");
  t.Write("/sys/devices/virtual/iommu/dmar0/intel-iommu/version", "1:0\n");
  t.Link("/sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  EXPECT_EQ(sys->kernel.iommus, std::vector<std::string>{"dmar0"});
  ASSERT_EQ(sys->controllers.size(), 1u);
  EXPECT_EQ(sys->controllers[0].iommu_domain, "DMA-FQ");
}

TEST(Discovery, NoIommu) {
  FakeSysfs t;
  std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0");
  t.AddNvme(rp, "0000:01:00.0", "nvme0", {.cmb_mb = 64});
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  EXPECT_TRUE(sys->kernel.iommus.empty());
  EXPECT_EQ(sys->controllers[0].iommu_domain, "");
}
