// nvmet's configfs tree and its p2pmem predictions over fake trees, each
// rule on both sides (the kernel's own answers: vm.switch.nvmet, vm.rc.nvmet).
#include "cmb/nvmet.h"
#include "cmb/nvmet_setup.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "cmb/discovery.h"
#include "fake_sysfs.h"

namespace {

const std::string kNqn = "nqn.2026-12.org.example:cmb";
const std::string kSub = "/sys/kernel/config/nvmet/subsystems/" + kNqn;

// A subsystem with namespace 1 on `device`, p2pmem `p2pmem` (nullopt: no
// attribute), exported by a port of `trtype` ("" for none).
void AddTarget(cmbtest::FakeSysfs& t, const std::string& device, const std::optional<std::string>& p2pmem,
               const std::string& trtype) {
  t.Write(kSub + "/attr_allow_any_host", "1\n");
  t.Write(kSub + "/allowed_hosts/.keep", "");
  t.Remove(kSub + "/allowed_hosts/.keep");
  t.Write(kSub + "/namespaces/1/device_path", device + "\n");
  t.Write(kSub + "/namespaces/1/enable", "0\n");
  if (p2pmem) t.Write(kSub + "/namespaces/1/p2pmem", *p2pmem + "\n");
  if (trtype.empty()) return;
  const std::string port = "/sys/kernel/config/nvmet/ports/1";
  t.Write(port + "/addr_trtype", trtype + "\n");
  t.Write(port + "/addr_adrfam", "ipv4\n");
  t.Write(port + "/addr_traddr", "10.0.0.1\n");
  t.Write(port + "/addr_trsvcid", "4420\n");
  t.Link(port + "/subsystems/" + kNqn, "../../../subsystems/" + kNqn);
}

// Two root ports: nvme0 (64 MiB CMB) and nvme1 share no bridge.
void AddRootComplex(cmbtest::FakeSysfs& t) {
  std::string hb = t.HostBridge();
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.0"), "0000:01:00.0", "nvme0", {.cmb_mb = 64});
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.1"), "0000:02:00.0", "nvme1");
}

cmb::NvmetP2pPrediction Predict(const cmbtest::FakeSysfs& t) {
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  EXPECT_TRUE(sys.ok()) << sys.status();
  absl::StatusOr<cmb::NvmetConfig> c = cmb::ReadNvmetConfig(t.root());
  EXPECT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->subsystems.size(), 1u);
  return cmb::PredictNvmetP2p(t.root(), *sys, cmb::ReadPlatformFacts(t.root()), *c, c->AllNamespaces().at(0));
}

TEST(Nvmet, AbsentWithoutConfigfs) {
  cmbtest::FakeSysfs t;
  absl::StatusOr<cmb::NvmetConfig> c = cmb::ReadNvmetConfig(t.root());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->present);
}

TEST(Nvmet, ReadsPortsSubsystemsAndNamespaces) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  AddTarget(t, "/dev/nvme1n1", "0000:03:00.0", "tcp");
  absl::StatusOr<cmb::NvmetConfig> c = cmb::ReadNvmetConfig(t.root());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->present);
  ASSERT_EQ(c->ports.size(), 1u);
  EXPECT_EQ(c->ports[0].trtype, "tcp");
  EXPECT_EQ(c->ports[0].traddr, "10.0.0.1");
  EXPECT_EQ(c->ports[0].trsvcid, "4420");
  EXPECT_EQ(c->ports[0].subsystems, std::vector<std::string>{kNqn});
  ASSERT_EQ(c->subsystems.size(), 1u);
  EXPECT_TRUE(c->subsystems[0].allow_any_host);
  const cmb::NvmetNamespace& n = c->subsystems[0].namespaces.at(0);
  EXPECT_EQ(n.subsystem, kNqn);
  EXPECT_EQ(n.nsid, 1u);
  EXPECT_EQ(n.device_path, "/dev/nvme1n1");
  EXPECT_FALSE(n.enabled);
  EXPECT_EQ(n.p2pmem_device(), cmb::PciAddress::Parse("0000:03:00.0").value());
}

// pci_p2pdma_distance() from the backing device to the named CMB.
TEST(Nvmet, ANamedCmbIsAcceptedWhenTheBackingDeviceReachesIt) {
  cmbtest::FakeSysfs sw;
  sw.AddSwitchTestbed(1);
  AddTarget(sw, "/dev/nvme1n1", "0000:03:00.0", "tcp");
  cmb::NvmetP2pPrediction p = Predict(sw);
  EXPECT_EQ(p.accepted, true) << p.accepted_reason;
  EXPECT_NE(p.accepted_reason.find("switch"), std::string::npos) << p.accepted_reason;

  cmbtest::FakeSysfs rc;
  AddRootComplex(rc);
  AddTarget(rc, "/dev/nvme1n1", "0000:01:00.0", "tcp");
  p = Predict(rc);
  EXPECT_EQ(p.accepted, false) << p.accepted_reason;
  EXPECT_NE(p.accepted_reason.find("enabling fails with EINVAL"), std::string::npos) << p.accepted_reason;
  EXPECT_NE(p.accepted_reason.find("unsupported"), std::string::npos) << p.accepted_reason;
}

// "1": pci_p2pmem_find() from the backing device.
TEST(Nvmet, AnyCmbIsTheClosestReachableOne) {
  cmbtest::FakeSysfs sw;
  sw.AddSwitchTestbed(1);
  AddTarget(sw, "/dev/nvme1n1", "1", "tcp");
  cmb::NvmetP2pPrediction p = Predict(sw);
  EXPECT_EQ(p.accepted, true) << p.accepted_reason;
  EXPECT_EQ(p.provider, cmb::PciAddress::Parse("0000:03:00.0").value());

  cmbtest::FakeSysfs rc;
  AddRootComplex(rc);
  AddTarget(rc, "/dev/nvme1n1", "1", "tcp");
  p = Predict(rc);
  EXPECT_EQ(p.accepted, false) << p.accepted_reason;
  EXPECT_NE(p.accepted_reason.find("no published p2pmem is reachable from nvme1"), std::string::npos)
      << p.accepted_reason;
}

TEST(Nvmet, OnlyABlockDeviceOfAP2pCapableDriverTakesP2pMem) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  t.Write("/srv/backing.img", "x");
  AddTarget(t, "/srv/backing.img", "0000:03:00.0", "tcp");
  cmb::NvmetP2pPrediction p = Predict(t);
  EXPECT_EQ(p.accepted, false);
  EXPECT_NE(p.accepted_reason.find("is a file"), std::string::npos) << p.accepted_reason;

  cmbtest::FakeSysfs missing;
  missing.AddSwitchTestbed(1);
  AddTarget(missing, "/dev/sdz", "0000:03:00.0", "tcp");
  p = Predict(missing);
  EXPECT_EQ(p.accepted, false);
  EXPECT_NE(p.accepted_reason.find("/dev/sdz does not exist"), std::string::npos) << p.accepted_reason;
}

// /dev/nvme1n1 as a native multipath head: its disk is under
// /sys/devices/virtual, with no PCI ancestor, so the switch does not help.
TEST(Nvmet, AMultipathHeadIsNotAPciDevice) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  AddTarget(t, "/dev/nvme1n1", "0000:03:00.0", "tcp");
  cmb::NvmetP2pPrediction own = Predict(t);
  EXPECT_EQ(own.accepted, true) << own.accepted_reason;
  // The head's attributes are the namespace's: copy them over, then move the links.
  const std::string vdir = "/sys/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1";
  std::filesystem::create_directories(t.dir() + vdir);
  std::filesystem::copy(t.dir() + "/sys/block/nvme1n1/", t.dir() + vdir, std::filesystem::copy_options::recursive);
  t.Remove("/sys/block/nvme1n1");
  t.Link("/sys/block/nvme1n1", "../devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1");
  t.Link("/sys/class/block/nvme1n1", "../../devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1");
  cmb::NvmetP2pPrediction head = Predict(t);
  EXPECT_EQ(head.accepted, false) << head.accepted_reason;
  EXPECT_NE(head.accepted_reason.find("native multipath head"), std::string::npos) << head.accepted_reason;
  ASSERT_EQ(head.fixes.size(), 1u);
  EXPECT_EQ(head.fixes[0].module, "nvme_core");
  EXPECT_EQ(head.fixes[0].parameter, "multipath");
  EXPECT_EQ(head.fixes[0].value, "N");
}

TEST(Nvmet, OffOrAbsentP2pMemHasNoVerdict) {
  cmbtest::FakeSysfs off;
  off.AddSwitchTestbed(1);
  AddTarget(off, "/dev/nvme1n1", "0", "rdma");
  cmb::NvmetP2pPrediction p = Predict(off);
  EXPECT_EQ(p.accepted, std::nullopt);
  EXPECT_EQ(p.used, false);
  EXPECT_EQ(p.used_reason, "p2pmem is off for this namespace");

  cmbtest::FakeSysfs none;
  none.AddSwitchTestbed(1);
  AddTarget(none, "/dev/nvme1n1", std::nullopt, "tcp");
  p = Predict(none);
  EXPECT_EQ(p.accepted, std::nullopt);
  EXPECT_NE(p.accepted_reason.find("CONFIG_PCI_P2PDMA"), std::string::npos) << p.accepted_reason;
}

// nvmet_p2pmem_ns_add_p2p(): only nvmet-rdma sets a P2P client.
TEST(Nvmet, OnlyRdmaPortsCanUseIt) {
  for (const char* tr : {"tcp", "loop", "fc", "pci"}) {
    cmbtest::FakeSysfs t;
    t.AddSwitchTestbed(1);
    AddTarget(t, "/dev/nvme1n1", "0000:03:00.0", tr);
    cmb::NvmetP2pPrediction p = Predict(t);
    EXPECT_EQ(p.used, false) << tr;
    EXPECT_NE(p.used_reason.find("only nvmet-rdma stages data in p2pmem"), std::string::npos) << p.used_reason;
  }
  cmbtest::FakeSysfs rdma;
  rdma.AddSwitchTestbed(1);
  AddTarget(rdma, "/dev/nvme1n1", "0000:03:00.0", "rdma");
  cmb::NvmetP2pPrediction p = Predict(rdma);
  EXPECT_EQ(p.used, std::nullopt);
  EXPECT_NE(p.used_reason.find("a PCI function"), std::string::npos) << p.used_reason;

  cmbtest::FakeSysfs unexported;
  unexported.AddSwitchTestbed(1);
  AddTarget(unexported, "/dev/nvme1n1", "0000:03:00.0", "");
  p = Predict(unexported);
  EXPECT_EQ(p.used, false);
  EXPECT_EQ(p.used_reason, "no port exports " + kNqn);
}

}  // namespace

namespace {

// cmbtarget's plan (nvmet_setup.h): every refusal comes before any write.
absl::StatusOr<cmb::NvmetExportPlan> PlanExport(const cmbtest::FakeSysfs& t, cmb::NvmetExportRequest req,
                                                const std::string& ns = "nvme1n1") {
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  EXPECT_TRUE(sys.ok()) << sys.status();
  for (const cmb::Controller& c : sys->controllers)
    for (const cmb::Namespace& n : c.namespaces)
      if (n.name == ns) req.namespaces.push_back(n);
  absl::StatusOr<cmb::NvmetConfig> c = cmb::ReadNvmetConfig(t.root());
  EXPECT_TRUE(c.ok()) << c.status();
  return cmb::PlanNvmetExport(t.root(), *sys, cmb::ReadPlatformFacts(t.root()), *c, req);
}

void EmptyTarget(cmbtest::FakeSysfs& t) {
  t.Write("/sys/kernel/config/nvmet/subsystems/.keep", "");
  t.Remove("/sys/kernel/config/nvmet/subsystems/.keep");
  t.Write("/sys/kernel/config/nvmet/ports/.keep", "");
  t.Remove("/sys/kernel/config/nvmet/ports/.keep");
}

const cmb::NvmetExportRequest kLoopAuto{.nqn = "nqn.test:a", .trtype = "loop", .p2pmem = cmb::P2pMemChoice::kAuto,
                                        .allow_any_host = true};

TEST(NvmetExport, AutoNamesTheCmbTheKernelWouldPick) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  EmptyTarget(t);
  absl::StatusOr<cmb::NvmetExportPlan> p = PlanExport(t, kLoopAuto);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->port_id, "1");
  ASSERT_EQ(p->namespaces.size(), 1u);
  EXPECT_EQ(p->namespaces[0].nsid, 1u);
  EXPECT_EQ(p->namespaces[0].device_path, "/dev/nvme1n1");
  EXPECT_EQ(p->namespaces[0].p2pmem, "0000:03:00.0");
  EXPECT_EQ(p->namespaces[0].prediction.used, false);
  ASSERT_FALSE(p->reasons.empty());
}

TEST(NvmetExport, AutoWithNoReachableCmbIsRefused) {
  cmbtest::FakeSysfs t;
  AddRootComplex(t);
  EmptyTarget(t);
  absl::StatusOr<cmb::NvmetExportPlan> p = PlanExport(t, kLoopAuto);
  ASSERT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition) << p.status();
  EXPECT_NE(p.status().message().find("the kernel would refuse p2pmem 1"), std::string::npos) << p.status();
  cmb::NvmetExportRequest none = kLoopAuto;
  none.p2pmem = cmb::P2pMemChoice::kNone;
  EXPECT_TRUE(PlanExport(t, none).ok());
}

TEST(NvmetExport, NoHostIsAllowedUnlessNamed) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  EmptyTarget(t);
  cmb::NvmetExportRequest r = kLoopAuto;
  r.allow_any_host = false;
  EXPECT_EQ(PlanExport(t, r).status().code(), absl::StatusCode::kInvalidArgument);
  r.hosts = {"nqn.2014-08.org.nvmexpress:uuid:1"};
  absl::StatusOr<cmb::NvmetExportPlan> p = PlanExport(t, r);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->allow_any_host);
  EXPECT_EQ(p->hosts, r.hosts);
}

TEST(NvmetExport, InUseExistingAndAddresslessAreRefused) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  AddTarget(t, "/dev/nvme0n1", "0", "tcp");  // nqn kNqn on port 1, tcp 10.0.0.1:4420
  cmb::NvmetExportRequest r = kLoopAuto;
  r.nqn = kNqn;
  EXPECT_EQ(PlanExport(t, r).status().code(), absl::StatusCode::kAlreadyExists);
  r.nqn = "nqn.test:b";
  EXPECT_EQ(PlanExport(t, r, "nvme0n1").status().code(), absl::StatusCode::kFailedPrecondition);  // exported already
  absl::StatusOr<cmb::NvmetExportPlan> p = PlanExport(t, r);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->port_id, "2");  // the lowest free
  r.trtype = "tcp";
  EXPECT_EQ(PlanExport(t, r).status().code(), absl::StatusCode::kInvalidArgument);  // no address
  r.traddr = "10.0.0.1";
  EXPECT_EQ(PlanExport(t, r).status().code(), absl::StatusCode::kAlreadyExists);  // that port listens already
  r.trsvcid = "4421";
  ASSERT_TRUE(PlanExport(t, r).ok());
  t.Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n23 1 259:10 / /srv rw - ext4 /dev/nvme1n1 rw\n");
  absl::StatusOr<cmb::NvmetExportPlan> used = PlanExport(t, r);
  ASSERT_EQ(used.status().code(), absl::StatusCode::kFailedPrecondition) << used.status();
  EXPECT_NE(used.status().message().find("is in use"), std::string::npos) << used.status();
  r.force = true;
  absl::StatusOr<cmb::NvmetExportPlan> forced = PlanExport(t, r);
  if (::geteuid() == 0) {
    EXPECT_TRUE(forced.ok()) << forced.status();
  } else {  // the override is root's
    EXPECT_EQ(forced.status().code(), absl::StatusCode::kPermissionDenied) << forced.status();
  }
}

TEST(NvmetExport, WithoutTheTargetNothingIsPlanned) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  absl::StatusOr<cmb::NvmetExportPlan> p = PlanExport(t, kLoopAuto);
  ASSERT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(p.status().message().find("nvme-loop"), std::string::npos) << p.status();
}

}  // namespace
