// Copy planning and the parsers of user-typed text (namespace specs, sizes,
// SPDK ranges), plus CRC-32C, over fake sysfs trees. What the plan promises
// is checked for real by tests/vm/cmbcp_test.cc.
#include <gtest/gtest.h>

#include "cmb/fix.h"

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "cmb/copy_plan.h"
#include "cmb/planner.h"
#include "cmb/crc32c.h"
#include "cmb/namespace_spec.h"
#include "fake_sysfs.h"

namespace {

using cmbtest::FakeSysfs;

// Root port -> switch -> three NVMe: nvme0 (64 MiB CMB), nvme1, nvme2.
struct Tree {
  FakeSysfs t;
  cmb::System sys;
  explicit Tree(std::optional<uint16_t> nvme2_port_acs = uint16_t{0}, cmbtest::NvmeOptions nvme2 = {},
                uint64_t available = 0) {
    std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
    std::string up = t.AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
    t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6), "0000:03:00.0", "nvme0", {.cmb_mb = 64});
    t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1");
    t.AddNvme(t.AddBridge(up, "0000:02:02.0", 6, nvme2_port_acs), "0000:05:00.0", "nvme2", nvme2);
    if (available) t.Write("/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:00.0/0000:03:00.0/p2pmem/available",
                           std::to_string(available) + "\n");
  }
  void Load() { sys = *cmb::Discover(t.root()); }
  cmb::NamespaceRef Ref(const std::string& spec) {
    absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(t.root(), sys, spec);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : cmb::NamespaceRef{};
  }
  absl::StatusOr<cmb::CopyPlan> Plan(cmb::CopyRequest req, const std::string& src = "nvme1:1",
                                     const std::string& dst = "nvme2:1") {
    if (sys.controllers.empty()) Load();
    req.src = Ref(src);
    req.dst = Ref(dst);
    return cmb::PlanCopy(t.root(), sys, req);
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

// Linux 6.1 allows 127 segments: a 512 KiB command of scattered pages fails
// (EINVAL), so chunks hold no more pages than that, whatever max_hw_sectors_kb.
TEST(CopyPlan, ChunksFitTheSegmentLimit) {
  Tree tr(uint16_t{0}, {.max_segments = 127});
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 100000});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->method, cmb::CopyMethod::kP2p);
  EXPECT_EQ(p->chunk_bytes, 127u * 4096);
  EXPECT_EQ(p->dst.ns.max_hw_transfer_bytes, 512u << 10);
}

// queue/io_poll travels with the plan's namespaces, so the copier can refuse
// polled completions where no poll queue exists (NvmeQueue::Open).
TEST(CopyPlan, NamespacesCarryTheirPollQueues) {
  Tree polled(uint16_t{0}, {.io_poll = true});  // the destination's controller has poll queues
  absl::StatusOr<cmb::CopyPlan> p = polled.Plan({.count = 8});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->src.ns.io_poll);
  EXPECT_TRUE(p->dst.ns.io_poll);
}

TEST(CopyPlan, ThroughASwitchUsesTheCmbWithMaxTransferChunks) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 100000});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->method, cmb::CopyMethod::kP2p);
  EXPECT_EQ(p->provider->ToString(), "0000:03:00.0");
  EXPECT_EQ(p->chunk_bytes, 512u << 10);  // max_hw_sectors_kb 512
  EXPECT_EQ(p->qd, 16u);
  EXPECT_EQ(p->ring_bytes(), 8u << 20);
  EXPECT_EQ(p->bytes, 100000u * 512);
  ASSERT_EQ(p->paths.size(), 2u);
  EXPECT_EQ(p->paths[0].verdict, cmb::PathVerdict::kSwitch);
  EXPECT_EQ(p->paths[1].verdict, cmb::PathVerdict::kSwitch);
}

TEST(CopyPlan, PrefersTheDestinationsOwnCmb) {
  Tree tr(uint16_t{0}, {.cmb_mb = 16});
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->provider->ToString(), "0000:05:00.0");
  EXPECT_EQ(p->qd, 1u) << "8 LBAs are one chunk";
}

TEST(CopyPlan, NoAllowedPathIsRefusedWithFixUnlessBounceIsAllowed) {
  Tree tr(uint16_t{0x0004 | 0x0008});  // ACS RR|CR on nvme2's downstream port
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "no CMB has a P2P path the kernel allows")) << p.status();
  EXPECT_TRUE(Has(p.status(), "pci=disable_acs_redir=")) << p.status();
  EXPECT_TRUE(Offers(p.status(), cmb::Fix::Option::kAllowBounce)) << p.status();
  absl::StatusOr<cmb::CopyPlan> b = tr.Plan({.count = 8, .allow_bounce = true});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->method, cmb::CopyMethod::kBounce);
  EXPECT_FALSE(b->provider);
  EXPECT_NE(b->reasons[1].find("BOUNCE"), std::string::npos);
  // An explicit --method=p2p never bounces, and is not told to.
  absl::StatusOr<cmb::CopyPlan> p2p = tr.Plan({.count = 8, .method = cmb::CopyMethod::kP2p, .allow_bounce = true});
  ASSERT_FALSE(p2p.ok());
  EXPECT_FALSE(Offers(p2p.status(), cmb::Fix::Option::kAllowBounce)) << p2p.status();
}

TEST(CopyPlan, ViaMustNameAPublishedCmb) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8, .via = *cmb::PciAddress::Parse("0000:04:00.0")});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "no p2pmem pool")) << p.status();
  p = tr.Plan({.count = 8, .via = *cmb::PciAddress::Parse("0000:09:00.0")});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  p = tr.Plan({.count = 8, .via = *cmb::PciAddress::Parse("0000:03:00.0")});
  EXPECT_TRUE(p.ok()) << p.status();
}

TEST(CopyPlan, UnpublishedCmbIsNotUsed) {
  FakeSysfs t;
  std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
  std::string up = t.AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
  t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6), "0000:03:00.0", "nvme0", {.cmb_mb = 64, .published = false});
  t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1");
  cmb::System sys = *cmb::Discover(t.root());
  cmb::CopyRequest req{.src = *cmb::ResolveNamespace(t.root(), sys, "nvme0:1"),
                       .dst = *cmb::ResolveNamespace(t.root(), sys, "nvme1:1"), .count = 8};
  absl::StatusOr<cmb::CopyPlan> p = cmb::PlanCopy(t.root(), sys, req);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "no CMB is published")) << p.status();
}

TEST(CopyPlan, RangesAreCheckedBeforeAnything) {
  Tree tr(uint16_t{0}, {.lba_size = 4096});
  // Exactly one of count and bytes.
  EXPECT_EQ(tr.Plan({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tr.Plan({.count = 8, .bytes = 4096}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tr.Plan({.count = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  // 7 x 512 B is not a whole number of the destination's 4096 B LBAs.
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 7});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(p.status(), "4096-byte LBAs")) << p.status();
  p = tr.Plan({.count = 16});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->dst_lbas(), 2u);
  // 1 GiB namespaces: 262144 LBAs of 4 KiB on the destination.
  p = tr.Plan({.dst_lba = 262143, .bytes = 8192});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(Has(p.status(), "beyond the end of nvme2n1")) << p.status();
  EXPECT_TRUE(tr.Plan({.dst_lba = 262142, .bytes = 8192}).ok());
  p = tr.Plan({.src_lba = (1u << 21) - 1, .count = 8});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kOutOfRange);
}

TEST(CopyPlan, OverlapInOneNamespaceIsRefused) {
  Tree tr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.src_lba = 0, .dst_lba = 100, .count = 200}, "nvme1:1", "nvme1:1");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "overlap")) << p.status();
  p = tr.Plan({.src_lba = 0, .dst_lba = 200, .count = 200}, "nvme1:1", "nvme1:1");
  EXPECT_TRUE(p.ok()) << p.status();  // adjacent, not overlapping
}

TEST(CopyPlan, OneNamespaceThroughTwoControllersOverlapsByIdentity) {
  // nvme1n1 and nvme2n1 report one NGUID: a shared namespace reached through
  // two controllers (multipath off). Overlapping ranges are refused.
  Tree tr;
  for (const char* c : {"0000:02:01.0/0000:04:00.0/nvme/nvme1/nvme1n1", "0000:02:02.0/0000:05:00.0/nvme/nvme2/nvme2n1"})
    tr.t.Write(std::string("/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/") + c + "/nguid",
               "52540000-0000-0000-0000-0000000000aa\n");
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.src_lba = 0, .dst_lba = 100, .count = 200});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "overlap in the same namespace")) << p.status();
  EXPECT_TRUE(Has(p.status(), "nvme1n1 and nvme2n1 are one namespace: same NGUID 52540000-0000-0000-0000-0000000000aa"))
      << p.status();
  EXPECT_TRUE(tr.Plan({.src_lba = 0, .dst_lba = 200, .count = 200}).ok());  // disjoint ranges of one namespace
}

TEST(CopyPlan, DistinctIdentitiesDoNotOverlap) {
  Tree tr;  // the fake tree gives every namespace its own wwid
  tr.Load();
  std::string why;
  EXPECT_FALSE(cmb::SameNamespace(*tr.Ref("nvme1:1").ns, *tr.Ref("nvme2:1").ns, &why)) << why;
  EXPECT_TRUE(tr.Plan({.src_lba = 0, .dst_lba = 100, .count = 200}).ok());
  // The same wwid (the kernel's fallback when a namespace has no EUI/NGUID/UUID) is one namespace.
  cmb::Namespace a = *tr.Ref("nvme1:1").ns, b = *tr.Ref("nvme2:1").ns;
  a.id.wwid = b.id.wwid = "nvme.1b36-6473742d73686172-51454d55204e564d65204374726c-00000001";
  EXPECT_TRUE(cmb::SameNamespace(a, b, &why));
  EXPECT_EQ(why, "wwid " + a.id.wwid);
}

TEST(CopyPlan, SwapOnTheDestinationIsInUse) {
  Tree tr;
  tr.t.Write("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                            "/dev/nvme2n1                            partition\t1048572\t\t0\t\t-2\n");
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "swap on /dev/nvme2n1")) << p.status();
  absl::StatusOr<cmb::CopyPlan> forced = tr.Plan({.count = 8, .force = true});
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_FALSE(forced->hold_dst);
  ASSERT_EQ(forced->overridden.size(), 2u);
  EXPECT_TRUE(absl::StrContains(forced->overridden[0], "swap on /dev/nvme2n1")) << forced->overridden[0];
  EXPECT_EQ(forced->overridden[1], "not holding /dev/nvme2n1 exclusively");
}

TEST(CopyPlan, UnreadableMountTableIsNotNotMounted) {
  Tree tr;
  tr.t.Remove("/proc/self/mountinfo");
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "cannot tell whether destination /dev/nvme2n1 is in use: cannot read the mount table"))
      << p.status();
  absl::StatusOr<cmb::CopyPlan> forced = tr.Plan({.count = 8, .force = true});
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_TRUE(absl::StrContains(forced->overridden[0], "cannot tell whether")) << forced->overridden[0];
  // An unforced plan of an unused destination holds it and overrides nothing.
  Tree ok;
  absl::StatusOr<cmb::CopyPlan> q = ok.Plan({.count = 8});
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->hold_dst);
  EXPECT_TRUE(q->overridden.empty());
}

// An end this process may open only through its block device goes that way;
// NVMe Copy is a passthrough command, so it cannot be asked to.
TEST(CopyPlan, EachEndTakesThePathThisProcessMayOpen) {
  Tree tr;
  tr.t.Write("/dev/ng1n1", "");
  tr.t.Write("/dev/nvme2n1", "");  // no /dev/ng2n1
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->src.path, cmb::DataPath::kPassthrough);
  EXPECT_EQ(p->dst.path, cmb::DataPath::kBlock);
  EXPECT_NE(absl::StrJoin(p->reasons, "\n").find("may open /dev/nvme2n1 but not /dev/ng2n1"), std::string::npos)
      << absl::StrJoin(p->reasons, "\n");
  cmb::CopyRequest copy{.src_lba = 0, .dst_lba = 100, .count = 8, .method = cmb::CopyMethod::kNvmeCopy};
  copy.path = cmb::DataPath::kBlock;
  absl::StatusOr<cmb::CopyPlan> c = tr.Plan(copy, "nvme1:1", "nvme1:1");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  EXPECT_TRUE(Offers(c.status(), cmb::Fix::Option::kPath)) << c.status();
}

TEST(CopyPlan, MountedOrHeldDestinationNeedsForce) {
  Tree tr;
  tr.t.Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 259:20 / /mnt/x rw - xfs /dev/nvme2n1 rw\n");
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "mounted on /mnt/x")) << p.status();
  EXPECT_TRUE(Offers(p.status(), cmb::Fix::Option::kForce)) << p.status();
  EXPECT_TRUE(tr.Plan({.count = 8, .force = true}).ok());
  // A mounted source is fine: it is only read.
  EXPECT_TRUE(tr.Plan({.count = 8}, "nvme2:1", "nvme1:1").ok());
}

TEST(CopyPlan, RingShrinksToTheFreeCmbAndRefusesWhenNoneIsFree) {
  Tree a(uint16_t{0}, {}, 1 << 20);  // 1 MiB free: two 512 KiB chunks
  absl::StatusOr<cmb::CopyPlan> p = a.Plan({.count = 100000});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->chunk_bytes, 512u << 10);
  EXPECT_EQ(p->qd, 2u);
  Tree b(uint16_t{0}, {}, 12288);  // 12 KiB free: one smaller chunk
  p = b.Plan({.count = 100000});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->chunk_bytes, 12288u);
  EXPECT_EQ(p->qd, 1u);
  Tree c(uint16_t{0}, {}, 0 + 1);  // less than a page
  p = c.Plan({.count = 100000});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Has(p.status(), "1 bytes free")) << p.status();
  // Another CMB or host memory may do; a smaller chunk cannot, under a page.
  EXPECT_TRUE(Offers(p.status(), cmb::Fix::Option::kVia)) << p.status();
  EXPECT_TRUE(Offers(p.status(), cmb::Fix::Option::kAllowBounce)) << p.status();
  EXPECT_FALSE(Offers(p.status(), cmb::Fix::Option::kChunkBytes)) << p.status();
  // An asked-for chunk over the free bytes: the fix names the largest that fits.
  p = b.Plan({.count = 100000, .chunk_bytes = 16384});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted);
  const std::vector<cmb::Fix> fixes = cmb::FixesOf(p.status());
  ASSERT_FALSE(fixes.empty()) << p.status();
  EXPECT_EQ(fixes[0], cmb::SetOption(cmb::Fix::Option::kChunkBytes, "12288 or less")) << p.status();
}

TEST(CopyPlan, ChunkAndDepthOptionsAreValidated) {
  Tree tr;
  EXPECT_EQ(tr.Plan({.count = 8, .chunk_bytes = 1000}).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.count = 8, .chunk_bytes = 1 << 20});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(p.status(), "max transfer")) << p.status();
  p = tr.Plan({.count = 100000, .chunk_bytes = 64 << 10, .qd = 4});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->chunk_bytes, 64u << 10);
  EXPECT_EQ(p->qd, 4u);
  EXPECT_EQ(tr.Plan({.count = 8, .qd = 5000}).status().code(), absl::StatusCode::kInvalidArgument);
  // NVMe Copy works within one namespace only.
  EXPECT_EQ(tr.Plan({.count = 8, .method = cmb::CopyMethod::kNvmeCopy}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NamespaceSpec, EveryFormResolves) {
  Tree tr;
  tr.Load();
  for (const char* spec : {"/dev/ng1n1", "/dev/nvme1n1", "ng1n1", "nvme1n1", "nvme1:1", "0000:04:00.0:1", "04:00.0:1"}) {
    absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(tr.t.root(), tr.sys, spec);
    ASSERT_TRUE(r.ok()) << spec << ": " << r.status();
    EXPECT_EQ(r->ns->name, "nvme1n1") << spec;
    EXPECT_EQ(r->controller->name, "nvme1") << spec;
  }
}

TEST(NamespaceSpec, BadSpecsSayWhatWasExpected) {
  Tree tr;
  tr.Load();
  struct Case {
    const char* spec;
    absl::StatusCode code;
    const char* text;
  } cases[] = {
      {"", absl::StatusCode::kInvalidArgument, "expected /dev/ngXnY"},
      {"/etc/passwd", absl::StatusCode::kInvalidArgument, "not under /dev"},
      {"/dev/ng9n1", absl::StatusCode::kNotFound, "known: /dev/ng0n1"},
      {"nvme1:2", absl::StatusCode::kNotFound, "has no namespace 2"},
      {"nvme7:1", absl::StatusCode::kNotFound, "no controller nvme7"},
      {"nvme1:0", absl::StatusCode::kInvalidArgument, "no valid NSID"},
      {"nvme1:x", absl::StatusCode::kInvalidArgument, "no valid NSID"},
      {"nvme1:-1", absl::StatusCode::kInvalidArgument, "no valid NSID"},
      {"0000:09:00.0:1", absl::StatusCode::kNotFound, "no NVMe controller at 0000:09:00.0"},
      {"zz:1", absl::StatusCode::kInvalidArgument, "no controller name or PCI address"},
      {"banana", absl::StatusCode::kInvalidArgument, "names no namespace"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(tr.t.root(), tr.sys, c.spec);
    ASSERT_FALSE(r.ok()) << c.spec;
    EXPECT_EQ(r.status().code(), c.code) << c.spec << ": " << r.status();
    EXPECT_TRUE(Has(r.status(), c.text)) << c.spec << ": " << r.status();
  }
}

TEST(ParseSize, SuffixesAndErrors) {
  EXPECT_EQ(*cmb::ParseSize("4096"), 4096u);
  EXPECT_EQ(*cmb::ParseSize("64K"), 64u << 10);
  EXPECT_EQ(*cmb::ParseSize("64KiB"), 64u << 10);
  EXPECT_EQ(*cmb::ParseSize("1m"), 1u << 20);
  EXPECT_EQ(*cmb::ParseSize("2G"), 2ull << 30);
  EXPECT_EQ(*cmb::ParseSize("1T"), 1ull << 40);
  EXPECT_EQ(*cmb::ParseSize("0"), 0u);
  for (const char* bad : {"", "K", "-1", "12X", "1.5G", " 1", "1 ", "99999999999999999999", "20000000T", "0x10"})
    EXPECT_FALSE(cmb::ParseSize(bad).ok()) << bad;
}

TEST(ParseCount, DecimalAndHex) {
  EXPECT_EQ(*cmb::ParseCount("17"), 17u);
  EXPECT_EQ(*cmb::ParseCount("0x10"), 16u);
  EXPECT_EQ(*cmb::ParseCount("0XfF"), 255u);
  for (const char* bad : {"", "-1", "+1", "0x", "0x-1", "abc", "1e3", "18446744073709551616"})
    EXPECT_FALSE(cmb::ParseCount(bad).ok()) << bad;
}

TEST(ParseSpdkRange, CmbCopyForm) {
  absl::StatusOr<cmb::SpdkRange> r = cmb::ParseSpdkRange("0000:03:00.0-1-100-2048");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->bdf.ToString(), "0000:03:00.0");
  EXPECT_EQ(r->nsid, 1u);
  EXPECT_EQ(r->slba, 100u);
  EXPECT_EQ(r->nlbas, 2048u);
  for (const char* bad : {"0000:03:00.0-1-100", "0000:03:00.0-0-0-8", "0000:03:00.0-1-0-0", "x-1-0-8",
                          "0000:03:00.0-1-0-8-9", "0000:03:00.0-4294967296-0-8"})
    EXPECT_FALSE(cmb::ParseSpdkRange(bad).ok()) << bad;
}

TEST(Crc32c, KnownVectorsAndIncremental) {
  EXPECT_EQ(cmb::Crc32c(0, "123456789", 9), 0xe3069283u);  // the standard check value
  EXPECT_EQ(cmb::Crc32c(0, "", 0), 0u);
  std::string zeros(32, '\0');
  EXPECT_EQ(cmb::Crc32c(0, zeros.data(), zeros.size()), 0x8a9136aau);  // RFC 3720 B.4
  std::string text = "The quick brown fox jumps over the lazy dog, 0123456789";
  uint32_t whole = cmb::Crc32c(0, text.data(), text.size());
  for (size_t cut = 0; cut <= text.size(); ++cut)
    EXPECT_EQ(cmb::Crc32c(cmb::Crc32c(0, text.data(), cut), text.data() + cut, text.size() - cut), whole) << cut;
}

}  // namespace

// A controller and its own CMB on a kernel that sends multi-page commands
// with their SGL list in host memory (7.3): the planner predicts from the
// device and CMBLOC, proves with a read, and never commits to a CMB its owner
// refuses (issue: "A controller and its own CMB on newer kernels").
namespace own_cmb {

constexpr const char* kNvme0 = "/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:00.0/0000:03:00.0";

struct Probes {
  std::vector<uint64_t> asked;  // bytes of every probe, in order
  std::vector<bool> wrote;      // whether each wrote back
  std::vector<uint64_t> at;     // and its LBA
  std::vector<cmb::DataPath> paths;  // and its data path
  // What the device takes: multi-page passthrough, one-page commands, and
  // multi-page block-device commands.
  bool full_ok = false, page_ok = true, block_ok = false, fails_to_run = false;
  std::function<absl::StatusOr<cmb::OwnCmbProbe>(const cmb::Namespace&, const cmb::PciAddress&, uint64_t, uint64_t,
                                                 bool, cmb::DataPath)>
  Fn() {
    return [this](const cmb::Namespace& ns, const cmb::PciAddress& owner, uint64_t lba, uint64_t bytes,
                  bool write_back, cmb::DataPath path) -> absl::StatusOr<cmb::OwnCmbProbe> {
      EXPECT_EQ(owner.ToString(), "0000:03:00.0") << "only the owner is probed";
      EXPECT_LE(lba + bytes / ns.lba_size, ns.capacity_blocks);
      asked.push_back(bytes);
      wrote.push_back(write_back);
      at.push_back(lba);
      paths.push_back(path);
      if (fails_to_run) return absl::ResourceExhaustedError("p2pmem exhausted");
      const bool ok = bytes <= 4096 ? page_ok : path == cmb::DataPath::kBlock ? block_ok : full_ok;
      return cmb::OwnCmbProbe{bytes, write_back, ok, ok ? "OK" : "Invalid Use of Controller Memory Buffer", path};
    };
  }
};

cmb::CopyRequest Req(Probes& p) {
  cmb::CopyRequest r{.count = 100000};
  r.probe_own_cmb = p.Fn();
  return r;
}

TEST(CopyPlanOwnCmb, On612TheOwnCmbIsUsedWithoutAProbe) {
  Tree tr;  // the fake tree runs 6.12.0-test
  Probes pr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(Req(pr), "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->own_cmb);
  EXPECT_EQ(p->own_cmb->predicted.outcome, cmb::OwnCmbOutcome::kFull);
  EXPECT_TRUE(pr.asked.empty());
  EXPECT_EQ(p->chunk_bytes, 512u << 10);
}

TEST(CopyPlanOwnCmb, QemusControllerOn73GetsOnePageCommandsAfterProvingThem) {
  Tree tr;
  tr.t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  Probes pr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(Req(pr), "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->provider->ToString(), "0000:03:00.0");
  ASSERT_TRUE(p->own_cmb);
  EXPECT_EQ(p->own_cmb->predicted.outcome, cmb::OwnCmbOutcome::kPage);
  EXPECT_EQ(pr.asked, std::vector<uint64_t>{4096}) << "QEMU is known to refuse more; one page is proven";
  EXPECT_EQ(pr.wrote, std::vector<bool>{true}) << "the destination writes from it: the proof writes back";
  EXPECT_EQ(pr.at, std::vector<uint64_t>{0}) << "at the start of the range the copy overwrites";
  EXPECT_EQ(p->chunk_bytes, 4096u);
  EXPECT_NE(absl::StrJoin(p->reasons, "\n").find("proven by a 4096-byte read and write-back of the same bytes"),
            std::string::npos)
      << absl::StrJoin(p->reasons, "\n");
  // A dry run proves with reads only, and says so.
  Probes dry;
  cmb::CopyRequest d = Req(dry);
  d.prove_with_writes = false;
  absl::StatusOr<cmb::CopyPlan> dp = tr.Plan(d, "nvme1:1", "nvme0:1");
  ASSERT_TRUE(dp.ok()) << dp.status();
  EXPECT_EQ(dry.wrote, std::vector<bool>{false});
  EXPECT_NE(absl::StrJoin(dp->reasons, "\n").find("writes from it not proven: a dry run"), std::string::npos);
  // A larger --chunk is refused with the reason, not sent.
  cmb::CopyRequest big = Req(pr);
  big.chunk_bytes = 8192;
  absl::StatusOr<cmb::CopyPlan> b = tr.Plan(big, "nvme1:1", "nvme0:1");
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(b.status(), "at most 4096-byte commands into its own CMB")) << b.status();
}

// Since 7.3 passthrough describes a multi-page command with an SGL list in
// host memory, which QEMU's controller refuses for data in its own CMB; the
// block layer's own commands (PRPs) are not held to that. Where this process
// may open the owner's block device, a multi-page read through it is tried,
// and if the device takes it the owner's end goes that way with whole chunks.
TEST(CopyPlanOwnCmb, On73TheOwnersEndTakesItsBlockDeviceWhenThatTakesWholeChunks) {
  Tree tr;
  tr.t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  tr.t.Write("/dev/nvme0n1", "");  // the owner's block device, openable
  Probes pr;
  pr.block_ok = true;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(Req(pr), "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->own_cmb);
  EXPECT_EQ(pr.paths, std::vector<cmb::DataPath>{cmb::DataPath::kBlock});
  EXPECT_EQ(pr.asked, std::vector<uint64_t>{8192});
  EXPECT_EQ(pr.wrote, std::vector<bool>{true}) << "the destination writes from it: the proof writes back";
  EXPECT_EQ(p->own_cmb->path, cmb::DataPath::kBlock);
  EXPECT_EQ(p->own_cmb->command_bytes_limit, 0u);
  EXPECT_EQ(p->dst.path, cmb::DataPath::kBlock);
  EXPECT_EQ(p->src.path, cmb::DataPath::kPassthrough) << "only the owner's end moves";
  EXPECT_EQ(p->chunk_bytes, 512u << 10);
  const std::string why = absl::StrJoin(p->reasons, "\n");
  EXPECT_NE(why.find("8192-byte read and write-back of the same bytes through it (block): accepted"),
            std::string::npos) << why;
  EXPECT_NE(why.find("nvme0's end goes through its block device"), std::string::npos) << why;
}

TEST(CopyPlanOwnCmb, ABlockDeviceThatRefusesTooLeavesOnePagePassthrough) {
  Tree tr;
  tr.t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  tr.t.Write("/dev/nvme0n1", "");
  Probes pr;  // block_ok false: refused through the block device too
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(Req(pr), "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(pr.paths, (std::vector<cmb::DataPath>{cmb::DataPath::kBlock, cmb::DataPath::kPassthrough}));
  EXPECT_EQ(pr.asked, (std::vector<uint64_t>{8192, 4096}));
  EXPECT_EQ(p->dst.path, cmb::DataPath::kPassthrough);
  EXPECT_EQ(p->chunk_bytes, 4096u);
}

TEST(CopyPlanOwnCmb, AnAskedPathIsTheOnlyOneTried) {
  Tree tr;
  tr.t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  tr.t.Write("/dev/nvme0n1", "");
  Probes pass;
  pass.block_ok = true;
  cmb::CopyRequest r = Req(pass);
  r.path = cmb::DataPath::kPassthrough;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(r, "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(pass.paths, std::vector<cmb::DataPath>{cmb::DataPath::kPassthrough}) << "no block device proof";
  EXPECT_EQ(p->chunk_bytes, 4096u);
  // On 6.12 passthrough is predicted whole; an asked-for block path is proven all the same.
  Tree old;
  Probes block;
  block.block_ok = true;
  cmb::CopyRequest b = Req(block);
  b.path = cmb::DataPath::kBlock;
  absl::StatusOr<cmb::CopyPlan> q = old.Plan(b, "nvme1:1", "nvme0:1");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(block.paths, std::vector<cmb::DataPath>{cmb::DataPath::kBlock});
  EXPECT_EQ(q->src.path, cmb::DataPath::kBlock);
  EXPECT_EQ(q->dst.path, cmb::DataPath::kBlock);
  EXPECT_NE(absl::StrJoin(q->reasons, "\n").find("data path block on every end, as asked"), std::string::npos);
}

TEST(CopyPlanOwnCmb, AnotherControllerWithCdpmlsIsProvenWithAMultiPageRead) {
  Tree tr;
  tr.t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  tr.t.Write(std::string(kNvme0) + "/vendor", "0x144d\n");
  tr.t.Write(std::string(kNvme0) + "/device", "0xa824\n");
  Probes pr;
  pr.full_ok = true;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(Req(pr), "nvme0:1", "nvme1:1");  // the source owns it
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->own_cmb->predicted.outcome, cmb::OwnCmbOutcome::kProbe);
  EXPECT_EQ(pr.asked, std::vector<uint64_t>{8192});
  EXPECT_EQ(pr.wrote, std::vector<bool>{false}) << "the source only reads into it";
  EXPECT_EQ(p->own_cmb->command_bytes_limit, 0u);
  EXPECT_EQ(p->chunk_bytes, 512u << 10);
  // The same device refusing the multi-page read falls back to one page.
  Probes no;
  absl::StatusOr<cmb::CopyPlan> q = tr.Plan(Req(no), "nvme0:1", "nvme1:1");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(no.asked, (std::vector<uint64_t>{8192, 4096}));
  EXPECT_EQ(q->chunk_bytes, 4096u);
}

TEST(CopyPlanOwnCmb, CdpmlsClearPredictsOnePageCommands) {
  Tree tr;
  tr.t.SetKernel("7.3.4", std::nullopt);
  tr.t.Write(std::string(kNvme0) + "/vendor", "0x144d\n");
  tr.t.Write(std::string(kNvme0) + "/nvme/nvme0/cmbloc", "2\n");  // BIR 2 only
  Probes pr;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(Req(pr), "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->own_cmb->predicted.outcome, cmb::OwnCmbOutcome::kPage);
  EXPECT_NE(p->own_cmb->predicted.reason.find("CDPMLS=0"), std::string::npos) << p->own_cmb->predicted.reason;
  EXPECT_EQ(pr.asked, std::vector<uint64_t>{4096});
}

TEST(CopyPlanOwnCmb, ARefusedOwnCmbIsRefusedBeforeWritingNamingTheFallback) {
  Tree tr;
  tr.t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  Probes pr;
  pr.page_ok = false;
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(Req(pr), "nvme1:1", "nvme0:1");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(p.status(), "read and write-back through it was refused too")) << p.status();
  EXPECT_TRUE(Offers(p.status(), cmb::Fix::Option::kAllowBounce)) << p.status();
  // With bounce allowed the copy goes through host memory and says why.
  cmb::CopyRequest r = Req(pr);
  r.allow_bounce = true;
  absl::StatusOr<cmb::CopyPlan> b = tr.Plan(r, "nvme1:1", "nvme0:1");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->method, cmb::CopyMethod::kBounce);
  // A probe that cannot run is no proof either.
  Probes broken;
  broken.fails_to_run = true;
  absl::StatusOr<cmb::CopyPlan> c = tr.Plan(Req(broken), "nvme1:1", "nvme0:1");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(c.status(), "could not be proven")) << c.status();
}

TEST(CopyPlanOwnCmb, AWriteBackNeverLeavesTheRange) {
  Tree tr;
  tr.t.SetKernel("7.3.4", std::nullopt);
  tr.t.Write(std::string(kNvme0) + "/vendor", "0x144d\n");  // not QEMU: probe
  Probes pr;
  pr.full_ok = true;
  cmb::CopyRequest r{.dst_lba = 1000, .count = 12};  // 6 KiB: two pages, less than 8 KiB
  r.probe_own_cmb = pr.Fn();
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(r, "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(pr.asked, std::vector<uint64_t>{6144}) << "the proof is the copy's size, not more";
  EXPECT_EQ(pr.at, std::vector<uint64_t>{1000});
}

TEST(CopyPlanOwnCmb, ACopyBelowOnePageIsProvenAtItsOwnSize) {
  Tree tr;
  tr.t.SetKernel("7.3.4+deb13-amd64", std::nullopt);  // QEMU's controller: one page
  Probes pr;
  cmb::CopyRequest r{.dst_lba = 2097151, .count = 1};  // the last LBA of the 1 GiB namespace
  r.probe_own_cmb = pr.Fn();
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(r, "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(pr.asked, std::vector<uint64_t>{512}) << "not a page past the end of the range";
  EXPECT_EQ(pr.at, std::vector<uint64_t>{2097151}) << "never elsewhere, such as LBA 0";
}

TEST(CopyPlanOwnCmb, AThirdCmbIsUsedWhenTheOwnOneIsRefused) {
  Tree tr(uint16_t{0}, {.cmb_mb = 32});  // nvme2 has a CMB too
  tr.t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  Probes pr;
  pr.page_ok = false;
  pr.full_ok = false;
  // nvme1 -> nvme0: nvme0's own CMB is preferred, refused; nvme2's CMB is a third one.
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(Req(pr), "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->provider->ToString(), "0000:05:00.0");
  EXPECT_FALSE(p->own_cmb);
  EXPECT_NE(absl::StrJoin(p->reasons, "\n").find("not nvme0: its own CMB"), std::string::npos)
      << absl::StrJoin(p->reasons, "\n");
}

// A plan of extents proves its destination's own CMB by reading, at the
// list's lowest LBA and never larger than its largest extent (a command is
// no larger), whatever `prove_with_writes` says.
TEST(CopyPlanOwnCmb, APlanOfExtentsProvesByReadingInsideTheList) {
  Tree tr;
  tr.t.SetKernel("7.3.4", std::nullopt);
  tr.t.Write(std::string(kNvme0) + "/vendor", "0x144d\n");  // not QEMU: probe
  Probes pr;
  pr.full_ok = true;
  const std::vector<cmb::Extent> list = {{0, 3000, 4}, {50, 1000, 6}, {900, 2000, 2}};  // 6 KiB; the largest 3 KiB
  cmb::CopyRequest r{.extents = list};
  r.probe_own_cmb = pr.Fn();
  ASSERT_TRUE(r.prove_with_writes);
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan(r, "nvme1:1", "nvme0:1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(pr.wrote, std::vector<bool>{false}) << "a list's proof never writes";
  EXPECT_EQ(pr.at, std::vector<uint64_t>{1000}) << "the lowest destination LBA of the list";
  EXPECT_EQ(pr.asked, std::vector<uint64_t>{3072}) << "the largest extent, not the list's 6 KiB";
  EXPECT_NE(absl::StrJoin(p->reasons, "\n").find("a plan of extents, proves by reading"), std::string::npos)
      << absl::StrJoin(p->reasons, "\n");
}

}  // namespace own_cmb

// A plan of extents (CopyRequest::extents) is sized for the list, not for a
// range elsewhere: its bytes, its lowest LBAs, its commands; the span it
// covers on each end is range-checked before anything.
namespace extents {

TEST(CopyPlanExtents, TheListSizesThePlan) {
  Tree tr;
  const std::vector<cmb::Extent> list = {{100, 5000, 8}, {20, 4000, 16}, {300, 4100, 2048}};
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.extents = list});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->bytes, (8u + 16 + 2048) * 512);
  EXPECT_EQ(p->src.lba, 20u);
  EXPECT_EQ(p->dst.lba, 4000u);
  EXPECT_EQ(p->src_lbas(), 2072u);
  EXPECT_EQ(p->chunk_bytes, 512u << 10);
  EXPECT_EQ(p->qd, 4u) << "one command for each short extent, two for the 1 MiB one";
}

// The depth counts commands extent by extent: 100 extents of 4 KiB are 100
// commands, though their 400 KiB would be one chunk of a range.
TEST(CopyPlanExtents, TheDepthCountsTheListsCommands) {
  Tree tr;
  std::vector<cmb::Extent> list;
  for (uint64_t i = 0; i < 100; ++i) list.push_back({i * 16, i * 8, 8});
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.extents = list});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->bytes, 400u << 10);
  EXPECT_EQ(p->qd, 16u);
  EXPECT_EQ(tr.Plan({.bytes = 400u << 10})->qd, 1u) << "the same bytes as a range";
}

TEST(CopyPlanExtents, TheSpanOnEachEndMustFitItsNamespace) {
  Tree tr;  // 1 GiB namespaces: 2097152 LBAs of 512 bytes
  const std::vector<cmb::Extent> past_dst = {{0, 0, 8}, {10, 2097150, 8}};
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.extents = past_dst});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(Has(p.status(), "the extents' span nvme2n1 LBAs 0..2097157 is beyond the end of nvme2n1")) << p.status();
  const std::vector<cmb::Extent> past_src = {{2097150, 0, 8}};
  p = tr.Plan({.extents = past_src});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(Has(p.status(), "the extents' span nvme1n1 LBAs 2097150..2097157")) << p.status();
  const std::vector<cmb::Extent> last = {{2097144, 2097144, 8}, {0, 0, 8}};
  EXPECT_TRUE(tr.Plan({.extents = last}).ok());
}

TEST(CopyPlanExtents, EveryExtentIsWholeLbasOfEveryEnd) {
  Tree tr(uint16_t{0}, {.lba_size = 4096});
  // 7 + 9 LBAs of 512 bytes are 8 KiB in all, but neither is whole 4 KiB LBAs.
  const std::vector<cmb::Extent> split = {{0, 0, 7}, {7, 8, 9}};
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.extents = split});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(p.status(), "extent 0: 3584 bytes are not whole LBAs of every end (multiples of 4096 bytes)"))
      << p.status();
  const std::vector<cmb::Extent> empty = {{0, 0, 8}, {8, 1, 0}};
  p = tr.Plan({.extents = empty});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(p.status(), "extent 1 has no LBAs")) << p.status();
  const std::vector<cmb::Extent> whole = {{0, 0, 8}, {64, 1, 16}};
  p = tr.Plan({.extents = whole});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->dst_lbas(), 3u);
}

TEST(CopyPlanExtents, AListIsNotARange) {
  Tree tr;
  const std::vector<cmb::Extent> list = {{0, 0, 8}};
  for (cmb::CopyRequest r : {cmb::CopyRequest{.count = 8, .extents = list}, cmb::CopyRequest{.bytes = 4096, .extents = list},
                             cmb::CopyRequest{.src_lba = 8, .extents = list}, cmb::CopyRequest{.dst_lba = 8, .extents = list}}) {
    absl::StatusOr<cmb::CopyPlan> p = tr.Plan(r);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << p.status();
    EXPECT_TRUE(Has(p.status(), "an extent list carries its own LBAs and bytes")) << p.status();
  }
  EXPECT_TRUE(Has(tr.Plan({}).status(), "an extent list")) << "a request without any size names every way to give one";
}

// Extents that interleave in one namespace are the copier's to judge, extent
// by extent: the planner does not refuse the span a range would overlap.
TEST(CopyPlanExtents, InterleavedExtentsOfOneNamespaceAreNotARangeOverlap) {
  Tree tr;
  const std::vector<cmb::Extent> list = {{0, 8, 8}, {16, 24, 8}};
  absl::StatusOr<cmb::CopyPlan> p = tr.Plan({.extents = list}, "nvme1:1", "nvme1:1");
  EXPECT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(tr.Plan({.src_lba = 0, .dst_lba = 8, .count = 32}, "nvme1:1", "nvme1:1").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace extents
