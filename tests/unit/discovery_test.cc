// Discovery over fake sysfs trees laid out like the kernel's.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

// One controller whose CMB registers show (as 7.3.4 shows them after probe)
// but which has no p2pmem pool, under `release` with P2PDMA built in.
cmb::Controller Unpublished(FakeSysfs& t, const std::string& release, cmbtest::NvmeOptions o,
                            const std::string& config = "CONFIG_PCI_P2PDMA=y\n") {
  t.SetKernel(release, config);
  o.pool = false;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", o);
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  EXPECT_TRUE(sys.ok());
  EXPECT_TRUE(sys->Providers().empty());
  return sys->controllers.at(0);
}

constexpr uint64_t kMiB = 1 << 20;

// 56cf7ef0d490: the size the driver keeps (the CMB clamped to its BAR) must
// be a multiple of 2 MiB. 3 MiB in a 4 MiB BAR is not; 4 MiB is.
TEST(Discovery, MisalignedCmbSizeIsNamedAndAnAlignedOneIsNot) {
  FakeSysfs t;
  cmb::Controller c = Unpublished(t, "7.3.4+deb13-amd64", {.cmb_mb = 3, .cmb_bar_bytes = 4 * kMiB});
  ASSERT_TRUE(c.cmb);
  ASSERT_TRUE(c.cmb_bar);
  EXPECT_EQ(c.cmb_bar->index, 2);
  EXPECT_EQ(c.cmb_bar->size, 4 * kMiB);
  EXPECT_EQ(c.p2pmem_note.find("registers present, not published: misaligned ("), 0u) << c.p2pmem_note;
  EXPECT_TRUE(absl::StrContains(c.p2pmem_note, "3145728 bytes, is not a multiple of 2 MiB")) << c.p2pmem_note;
  EXPECT_TRUE(absl::StrContains(c.p2pmem_note, "without a log line")) << c.p2pmem_note;
  EXPECT_TRUE(absl::StrContains(c.p2pmem_note, "56cf7ef0d490")) << c.p2pmem_note;

  FakeSysfs u;
  cmb::Controller d = Unpublished(u, "7.3.4+deb13-amd64", {.cmb_mb = 4});
  EXPECT_FALSE(absl::StrContains(d.p2pmem_note, "misaligned")) << d.p2pmem_note;
  EXPECT_EQ(d.p2pmem_note.find("registers present, not published: the kernel did not register it"), 0u)
      << d.p2pmem_note;
}

// The driver checks the BAR's start (pci_resource_start), after clamping the
// size to the BAR: 3 MiB of CMB in a 2 MiB BAR keeps 2 MiB and is aligned.
TEST(Discovery, MisalignedBarStartOnBothSidesAndTheClampFirst) {
  FakeSysfs t;
  cmb::Controller c = Unpublished(t, "7.3.4", {.cmb_mb = 4, .cmb_bar_start = (uint64_t{0x38} << 32) + kMiB});
  EXPECT_TRUE(absl::StrContains(c.p2pmem_note, "misaligned (BAR 2 starts at 0x3800100000, not on a 2 MiB boundary)"))
      << c.p2pmem_note;
  FakeSysfs u;
  cmb::Controller d = Unpublished(u, "7.3.4", {.cmb_mb = 4, .cmb_bar_start = (uint64_t{0x38} << 32) + 2 * kMiB});
  EXPECT_FALSE(absl::StrContains(d.p2pmem_note, "misaligned")) << d.p2pmem_note;
  FakeSysfs w;
  cmb::Controller e = Unpublished(w, "7.3.4", {.cmb_mb = 3, .cmb_bar_bytes = 2 * kMiB});
  EXPECT_FALSE(absl::StrContains(e.p2pmem_note, "misaligned")) << e.p2pmem_note;
}

// 6.12.y took the check in 6.12.23: before it the kernel tries, memory
// hotplug refuses, and the log says so; 6.1.y took it at a point not known.
TEST(Discovery, MisalignedCmbWordsFollowTheStablePointRelease) {
  FakeSysfs t;
  cmb::Controller before = Unpublished(t, "6.12.22", {.cmb_mb = 3, .cmb_bar_bytes = 4 * kMiB});
  EXPECT_TRUE(absl::StrContains(before.p2pmem_note, "misaligned")) << before.p2pmem_note;
  EXPECT_TRUE(absl::StrContains(before.p2pmem_note, "predates the check")) << before.p2pmem_note;
  FakeSysfs u;
  cmb::Controller after = Unpublished(u, "6.12.23", {.cmb_mb = 3, .cmb_bar_bytes = 4 * kMiB});
  EXPECT_TRUE(absl::StrContains(after.p2pmem_note, "without a log line")) << after.p2pmem_note;
  FakeSysfs w;
  cmb::Controller maybe = Unpublished(w, "6.1.150", {.cmb_mb = 3, .cmb_bar_bytes = 4 * kMiB});
  EXPECT_TRUE(absl::StrContains(maybe.p2pmem_note, "at a point release cmb does not know")) << maybe.p2pmem_note;
}

// nvme_map_cmb() also returns silently when the CMB's offset lies past the BAR.
TEST(Discovery, CmbOffsetBeyondItsBarIsNamed) {
  FakeSysfs t;
  t.SetKernel("7.3.4", "CONFIG_PCI_P2PDMA=y\n");
  std::string dev = t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 4, .pool = false});
  t.Write(dev + "/nvme/nvme0/cmbloc", absl::StrCat((8u << 12) | 0x62, "\n"));  // OFST 8 MiB, BIR 2
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  const std::string& note = sys->controllers[0].p2pmem_note;
  EXPECT_TRUE(absl::StrContains(note, "the CMB's offset 0x800000 lies beyond BAR 2 (4194304 bytes)")) << note;
}

// The driver's check ignores the offset, but memory hotplug wants the range
// itself aligned: 1 MiB into the BAR fails there (logged), 2 MiB does not.
TEST(Discovery, CmbStartOffTheGridPastTheDriversCheck) {
  for (uint32_t ofst_mb : {1u, 2u}) {
    FakeSysfs t;
    t.SetKernel("7.3.4", "CONFIG_PCI_P2PDMA=y\n");
    std::string dev =
        t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 4, .pool = false, .cmb_bar_bytes = 8 * kMiB});
    t.Write(dev + "/nvme/nvme0/cmbloc", absl::StrCat((ofst_mb << 12) | 0x62, "\n"));
    absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
    ASSERT_TRUE(sys.ok());
    const std::string& note = sys->controllers[0].p2pmem_note;
    EXPECT_EQ(absl::StrContains(note, "misaligned (it starts at 0x3800100000, BAR 2 plus offset 0x100000"),
              ofst_mb == 1)
        << note;
    EXPECT_FALSE(absl::StrContains(note, "without a log line")) << note;
  }
}

// Without CONFIG_PCI_P2PDMA the driver logs its failure; an aligned CMB is
// then not called misaligned, and a misaligned one is named first.
TEST(Discovery, P2pdmaOffIsToldApartFromMisaligned) {
  FakeSysfs t;
  t.Write("/dev/kmsg", "4,101,2100,-;nvme nvme0: failed to register the CMB\n");
  cmb::Controller off = Unpublished(t, "7.3.4", {.cmb_mb = 4}, "# CONFIG_PCI_P2PDMA is not set\n");
  EXPECT_TRUE(absl::StrContains(off.p2pmem_note, "failed to register the CMB")) << off.p2pmem_note;
  EXPECT_FALSE(absl::StrContains(off.p2pmem_note, "misaligned")) << off.p2pmem_note;
  FakeSysfs u;
  cmb::Controller both = Unpublished(u, "7.3.4", {.cmb_mb = 3, .cmb_bar_bytes = 4 * kMiB},
                                     "# CONFIG_PCI_P2PDMA is not set\n");
  EXPECT_TRUE(absl::StrContains(both.p2pmem_note, "misaligned")) << both.p2pmem_note;
  EXPECT_TRUE(absl::StrContains(both.p2pmem_note, "also lacks P2PDMA support")) << both.p2pmem_note;
}

// 951ebc18d181 (7.1): no provider on a function with non_mappable_bars, which
// sysfs shows by hiding its resourceN files.
TEST(Discovery, UnmappableBarsNamedFromTheirRelease) {
  FakeSysfs t;
  cmb::Controller c = Unpublished(t, "7.1.0", {.cmb_mb = 4, .bar_files = false});
  ASSERT_TRUE(c.cmb_bar);
  EXPECT_FALSE(c.cmb_bar->mappable);
  EXPECT_TRUE(absl::StrContains(c.p2pmem_note, "BARs as not mappable (no resource2 file)")) << c.p2pmem_note;
  EXPECT_TRUE(absl::StrContains(c.p2pmem_note, "951ebc18d181")) << c.p2pmem_note;
  FakeSysfs u;
  cmb::Controller d = Unpublished(u, "7.0.9", {.cmb_mb = 4, .bar_files = false});
  EXPECT_FALSE(absl::StrContains(d.p2pmem_note, "not mappable")) << d.p2pmem_note;
}

// Since 6.19 a function can hold P2P state without a pool (vfio-pci's
// providers): only a published p2pmem pool makes a provider.
TEST(Discovery, OnlyAPublishedPoolIsAProvider) {
  FakeSysfs t;
  t.SetKernel("7.3.4", "CONFIG_PCI_P2PDMA=y\n");
  std::string hb = t.HostBridge();
  t.AddNvme(hb, "0000:00:04.0", "nvme0", {.cmb_mb = 64});
  t.AddNvme(hb, "0000:00:05.0", "nvme1", {.cmb_mb = 64, .published = false, .cmbsz_flags = 0x3});
  // An NVMe function handed to vfio-pci: not an nvme controller, no p2pmem/.
  std::string vfio = t.AddPci(hb, "0000:00:06.0", 0x1b36, 0x0010, 0x010802, cmbtest::MakeConfig(0x1b36, 0x0010, 0, std::nullopt));
  t.WriteResources(vfio, uint64_t{0x39} << 32, 64 * kMiB);
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok());
  ASSERT_EQ(sys->controllers.size(), 2u);
  EXPECT_EQ(sys->Providers(), std::vector<size_t>{0});
  EXPECT_TRUE(sys->rules.poolless_providers);
  EXPECT_TRUE(sys->controllers[1].p2pmem_note.empty());  // it has a pool, unpublished
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
