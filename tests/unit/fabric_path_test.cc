// NVMe over Fabrics: discovery of fabrics controllers (address, NQN, loss
// timeout, the RDMA NIC) and the verdicts for P2P to their namespaces, on
// both sides of Linux 7.1 (nvme-rdma host P2P) and for every transport, over
// fake sysfs trees laid out as the kernel's (kmod-notes/fabrics.md).
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "cmb/copy_plan.h"
#include "cmb/discovery.h"
#include "cmb/fabric_path.h"
#include "cmb/fix.h"
#include "cmb/namespace_spec.h"
#include "cmb/planner.h"
#include "fake_sysfs.h"

namespace {

using cmbtest::FakeSysfs;

constexpr char kSwitchUp[] = "/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0";

// The switch testbed (nvme0 with a CMB, nvme1, nvme2), a hardware RNIC under
// the same switch at 0000:06:00.0 serving eth1, and a route to 10.0.0.0/24 through it.
void AddRnicUnderSwitch(FakeSysfs& t) {
  std::string port = t.AddBridge(kSwitchUp, "0000:02:05.0", 6);
  std::string nic = t.AddPci(port, "0000:06:00.0", 0x15b3, 0x101b, 0x020000,
                             cmbtest::MakeConfig(0x15b3, 0x101b, 0, std::nullopt));
  t.AddNetdev("eth1", nic);
  t.AddRdmaDevice("mlx5_0", nic, "eth1");
  t.Write("/proc/net/route",
          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
          "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
          "eth1\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
  t.AddNetdev("eth0", "");
}

cmbtest::FabricOptions Rdma() {
  return {.transport = "rdma", .address = "traddr=10.0.0.2,trsvcid=4420"};
}

TEST(FabricDiscovery, TcpControllerHasItsConnectionAndNamespaces) {
  FakeSysfs t;
  t.AddSwitchTestbed();
  t.AddFabricNvme("nvme3");
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  const cmb::Controller* c = sys->FindController("nvme3");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->transport, "tcp");
  EXPECT_FALSE(c->address);
  ASSERT_TRUE(c->fabric);
  EXPECT_EQ(c->fabric->traddr, "10.0.0.2");
  EXPECT_EQ(c->fabric->trsvcid, "4420");
  EXPECT_EQ(c->fabric->src_addr, "10.0.0.1");
  EXPECT_EQ(c->fabric->subsysnqn, "nqn.2014-08.org.nvmexpress:cmb-test");
  EXPECT_EQ(c->fabric->state, "live");
  EXPECT_EQ(c->fabric->ctrl_loss_tmo_s, 600);
  EXPECT_FALSE(c->fabric->reconnects_forever);
  EXPECT_EQ(c->fabric->reconnect_delay_s, 10);
  EXPECT_FALSE(c->fabric->rnic);  // looked up for rdma only
  ASSERT_EQ(c->namespaces.size(), 1u);
  EXPECT_EQ(c->namespaces[0].name, "nvme3n1");
  EXPECT_EQ(c->namespaces[0].generic_device, "/dev/ng3n1");
  // Its namespaces resolve like a PCIe controller's.
  for (const char* spec : {"nvme3:1", "/dev/ng3n1", "/dev/nvme3n1"}) {
    absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(t.root(), *sys, spec);
    ASSERT_TRUE(r.ok()) << spec << ": " << r.status();
    EXPECT_EQ(r->controller->name, "nvme3") << spec;
  }
  EXPECT_FALSE(sys->controllers[0].fabric);  // PCIe controllers have none
}

TEST(FabricDiscovery, AddressKeysAndEndlessReconnects) {
  cmb::FabricInfo f;
  cmb::ParseFabricAddress("traddr=fe80::1,trsvcid=4421,host_traddr=fe80::2,host_iface=eth3\n", f);
  EXPECT_EQ(f.traddr, "fe80::1");
  EXPECT_EQ(f.trsvcid, "4421");
  EXPECT_EQ(f.host_traddr, "fe80::2");
  EXPECT_EQ(f.host_iface, "eth3");
  EXPECT_EQ(f.src_addr, "");
  FakeSysfs t;
  t.AddFabricNvme("nvme0", {.transport = "loop", .address = "", .ctrl_loss_tmo = "off"});
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  const cmb::FabricInfo& l = *sys->controllers[0].fabric;
  EXPECT_TRUE(l.reconnects_forever);
  EXPECT_FALSE(l.ctrl_loss_tmo_s);
  EXPECT_EQ(l.traddr, "");
}

TEST(FabricDiscovery, RdmaFindsTheRnicByRouteAndItsPciFunction) {
  FakeSysfs t;
  t.AddSwitchTestbed();
  AddRnicUnderSwitch(t);
  t.AddRdmaDevice("rxe0", "", "eth0");  // a second device, on the other interface
  t.AddFabricNvme("nvme3", Rdma());
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  const cmb::FabricInfo& f = *sys->FindController("nvme3")->fabric;
  ASSERT_TRUE(f.rnic) << f.rnic_note;
  EXPECT_EQ(f.rnic->ib_device, "mlx5_0");
  EXPECT_EQ(f.rnic->netdev, "eth1");
  ASSERT_TRUE(f.rnic->address);
  EXPECT_EQ(f.rnic->address->ToString(), "0000:06:00.0");
  EXPECT_TRUE(absl::StrContains(f.rnic->how, "route to 10.0.0.2 leaves through eth1")) << f.rnic->how;
}

// IPv6: the longest prefix of /proc/net/ipv6_route picks the interface.
TEST(FabricDiscovery, RdmaFindsTheRnicByAnIpv6Route) {
  FakeSysfs t;
  t.AddSwitchTestbed();
  AddRnicUnderSwitch(t);
  t.AddRdmaDevice("rxe0", "", "eth0");
  const std::string any(32, '0');
  t.Write("/proc/net/ipv6_route",
          any + " 00 " + any + " 00 " + any + " 00000400 00000001 00000000 00000003     eth0\n" +
          "fd000000000000000000000000000000 40 " + any + " 00 " + any + " 00000100 00000001 00000000 00000001     eth1\n");
  t.AddFabricNvme("nvme3", {.transport = "rdma", .address = "traddr=fd00::2,trsvcid=4420"});
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  const cmb::FabricInfo& f = *sys->FindController("nvme3")->fabric;
  ASSERT_TRUE(f.rnic) << f.rnic_note;
  EXPECT_EQ(f.rnic->netdev, "eth1");
  EXPECT_EQ(f.rnic->ib_device, "mlx5_0");
  t.AddFabricNvme("nvme4", {.transport = "rdma", .address = "traddr=2001:db8::9,trsvcid=4420"});
  sys = cmb::Discover(t.root());
  const cmb::FabricInfo& g = *sys->FindController("nvme4")->fabric;
  ASSERT_TRUE(g.rnic) << g.rnic_note;
  EXPECT_EQ(g.rnic->netdev, "eth0");  // the default route
  EXPECT_EQ(g.rnic->ib_device, "rxe0");
}

TEST(FabricDiscovery, RdmaOverSoftRoceHasNoPciFunction) {
  FakeSysfs t;
  t.AddNetdev("eth0", "");
  t.AddRdmaDevice("rxe0", "", "eth0");
  t.Write("/proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                             "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
  t.AddFabricNvme("nvme0", Rdma());
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  const cmb::FabricInfo& f = *sys->controllers[0].fabric;
  ASSERT_TRUE(f.rnic) << f.rnic_note;
  EXPECT_EQ(f.rnic->ib_device, "rxe0");  // by rxe's `parent`
  EXPECT_FALSE(f.rnic->address);
}

TEST(FabricDiscovery, RdmaDeviceUnknownWhenNoRouteChoosesAmongSeveral) {
  FakeSysfs t;
  t.AddNetdev("eth0", "");
  t.AddRdmaDevice("rxe0", "", "eth0");
  t.AddRdmaDevice("siw0", "", "eth5");
  t.AddFabricNvme("nvme0", Rdma());
  t.SetKernel("7.3.4", std::nullopt);
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  const cmb::FabricInfo& f = *sys->controllers[0].fabric;
  EXPECT_FALSE(f.rnic);
  EXPECT_TRUE(absl::StrContains(f.rnic_note, "cannot tell which of the RDMA devices")) << f.rnic_note;
  cmb::FabricClient v = cmb::JudgeFabricClient(sys->rules, sys->controllers[0]);
  EXPECT_FALSE(v.eligible);
  EXPECT_TRUE(absl::StrContains(v.reason, "RDMA device is not known")) << v.reason;
}

// TCP, FC and loop never take P2P memory, whatever the kernel; each says why.
TEST(FabricVerdict, TcpFcLoopAreNeverEligible) {
  for (const char* release : {"6.12.117", "7.0.1", "7.3.4+deb13-amd64"}) {
    for (const auto& [transport, words] : {std::pair{"tcp", "NVMe/TCP"}, {"fc", "NVMe/FC"}, {"loop", "nvme-loop"}}) {
      cmb::Controller c;
      c.name = "nvme3";
      c.transport = transport;
      c.fabric = cmb::FabricInfo{};
      cmb::FabricClient f = cmb::JudgeFabricClient(cmb::KernelRules::For(release), c);
      EXPECT_FALSE(f.eligible) << transport << " on " << release;
      EXPECT_FALSE(f.dma_client);
      EXPECT_TRUE(absl::StrContains(f.reason, words)) << f.reason;
      EXPECT_TRUE(absl::StrContains(f.reason, "host memory")) << f.reason;
      EXPECT_FALSE(f.fix.empty());
    }
  }
}

// nvme-rdma hosts take P2P memory since 7.1 (23528aa3320a): 7.0 is refused
// naming the rule, 7.1 is eligible with the RNIC as the DMA client, and the
// path from the CMB to the RNIC is judged like any PCIe pair.
TEST(FabricVerdict, RdmaWithAPciRnicIsEligibleFrom71) {
  FakeSysfs t;
  t.AddSwitchTestbed();
  AddRnicUnderSwitch(t);
  t.AddFabricNvme("nvme3", Rdma());
  const cmb::PciAddress cmb0 = *cmb::PciAddress::Parse("0000:03:00.0");
  for (const auto& [release, eligible] : {std::pair{"7.0.9", false}, {"7.1.0", true}, {"7.3.4+deb13-amd64", true}}) {
    t.SetKernel(release, std::nullopt);
    absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
    ASSERT_TRUE(sys.ok()) << sys.status();
    EXPECT_EQ(sys->rules.rdma_host_p2p, eligible) << release;
    const cmb::Controller& c = *sys->FindController("nvme3");
    cmb::FabricClient f = cmb::JudgeFabricClient(sys->rules, c);
    EXPECT_EQ(f.eligible, eligible) << release << ": " << f.reason;
    absl::StatusOr<cmb::FabricPath> p = cmb::PredictFabricPath(t.root(), cmb::ReadPlatformFacts(t.root()), cmb0, c);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->allowed, eligible) << release << ": " << p->reason;
    if (!eligible) {
      EXPECT_TRUE(absl::StrContains(f.reason, "only since Linux 7.1 (commit 23528aa3320a)")) << f.reason;
      EXPECT_EQ(f.fix, "run Linux 7.1 or newer");
      EXPECT_FALSE(p->path);
      continue;
    }
    ASSERT_TRUE(f.dma_client);
    EXPECT_EQ(f.dma_client->ToString(), "0000:06:00.0");
    ASSERT_TRUE(p->path);
    EXPECT_EQ(p->path->verdict, cmb::PathVerdict::kSwitch) << p->reason;
    EXPECT_EQ(p->path->client.ToString(), "0000:06:00.0");
  }
}

TEST(FabricVerdict, RdmaOverSoftRoceIsNotEligible) {
  cmb::Controller c;
  c.name = "nvme3";
  c.transport = "rdma";
  c.fabric = cmb::FabricInfo{};
  c.fabric->rnic = cmb::RdmaNic{.ib_device = "rxe0", .netdev = "eth0", .address = std::nullopt, .how = ""};
  cmb::FabricClient f = cmb::JudgeFabricClient(cmb::KernelRules::For("7.3.4"), c);
  EXPECT_FALSE(f.eligible);
  EXPECT_TRUE(absl::StrContains(f.reason, "soft RoCE/iWARP device has no PCI function")) << f.reason;
  EXPECT_TRUE(absl::StrContains(f.reason, "rxe0")) << f.reason;
}

// The planner refuses a fabric end with the rule that applies (and offers
// bouncing), and plans P2P through the RNIC where the kernel allows it.
TEST(FabricVerdict, PlannerNamesTheRuleAndUsesTheRnic) {
  FakeSysfs t;
  t.AddSwitchTestbed();
  AddRnicUnderSwitch(t);
  t.AddFabricNvme("nvme3");
  t.AddFabricNvme("nvme4", Rdma());
  t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  ASSERT_TRUE(sys.ok()) << sys.status();
  auto plan = [&](const char* dst, bool bounce) {
    cmb::CopyRequest req{.src = *cmb::ResolveNamespace(t.root(), *sys, "nvme1:1"),
                         .dst = *cmb::ResolveNamespace(t.root(), *sys, dst),
                         .count = 8,
                         .allow_bounce = bounce};
    return cmb::PlanCopy(t.root(), *sys, req);
  };
  absl::StatusOr<cmb::CopyPlan> tcp = plan("nvme3:1", false);
  ASSERT_FALSE(tcp.ok());
  EXPECT_EQ(tcp.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(tcp.status().message(), "nvme3 is an NVMe/TCP controller")) << tcp.status();
  bool bounce_offered = false;
  for (const cmb::Fix& f : cmb::FixesOf(tcp.status()))
    bounce_offered |= f.kind == cmb::Fix::Kind::kSetOption && f.option == cmb::Fix::Option::kAllowBounce;
  EXPECT_TRUE(bounce_offered) << tcp.status();
  absl::StatusOr<cmb::CopyPlan> bounced = plan("nvme3:1", true);
  ASSERT_TRUE(bounced.ok()) << bounced.status();
  EXPECT_EQ(bounced->method, cmb::CopyMethod::kBounce);
  absl::StatusOr<cmb::CopyPlan> rdma = plan("nvme4:1", false);
  ASSERT_TRUE(rdma.ok()) << rdma.status();
  EXPECT_EQ(rdma->method, cmb::CopyMethod::kP2p);
  ASSERT_TRUE(rdma->dst.dma_client);
  EXPECT_EQ(rdma->dst.dma_client->ToString(), "0000:06:00.0");
  ASSERT_EQ(rdma->paths.size(), 2u);
  EXPECT_EQ(rdma->paths[1].client.ToString(), "0000:06:00.0");
  t.SetKernel("7.0.2", std::nullopt);
  sys = cmb::Discover(t.root());
  absl::StatusOr<cmb::CopyPlan> old = plan("nvme4:1", false);
  ASSERT_FALSE(old.ok());
  EXPECT_TRUE(absl::StrContains(old.status().message(), "only since Linux 7.1")) << old.status();
}

}  // namespace
