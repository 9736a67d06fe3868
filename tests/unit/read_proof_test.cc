// The read proof's plan over fake trees: which pairs are read, how much, in
// what commands, and why the others are not; and the proof's refusals that
// need no device. The reads themselves run in the VM (vm.switch.probe).
#include "cmb/read_proof.h"

#include <gtest/gtest.h>

#include "cmb/discovery.h"
#include "cmb/p2p_path.h"
#include "fake_sysfs.h"

namespace {

// Every (provider, client) verdict, as cmbinfo computes them.
std::vector<cmb::P2pPath> Paths(const cmbtest::FakeSysfs& t, const cmb::System& sys) {
  std::vector<cmb::P2pPath> paths;
  for (size_t p : sys.Providers())
    for (const cmb::Controller& c : sys.controllers) {
      absl::StatusOr<cmb::P2pPath> path = cmb::PredictP2pPath(t.root(), *sys.controllers[p].address, *c.address);
      EXPECT_TRUE(path.ok()) << path.status();
      if (path.ok()) paths.push_back(*path);
    }
  return paths;
}

std::vector<cmb::ReadProofPair> Plan(const cmbtest::FakeSysfs& t, const cmb::ReadProofOptions& o = {}) {
  absl::StatusOr<cmb::System> sys = cmb::Discover(t.root());
  EXPECT_TRUE(sys.ok()) << sys.status();
  return cmb::PlanReadProofs(*sys, Paths(t, *sys), o);
}

const cmb::ReadProofPair& Find(const std::vector<cmb::ReadProofPair>& pairs, const std::string& ns) {
  for (const cmb::ReadProofPair& p : pairs)
    if (p.ns.name == ns) return p;
  ADD_FAILURE() << "no pair for " << ns;
  return pairs.front();
}

// Three root ports, no switch: the q35 host bridge is not on the whitelist.
void AddRootComplex(cmbtest::FakeSysfs& t, const cmbtest::NvmeOptions& cmb_options) {
  std::string hb = t.HostBridge();
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.0"), "0000:01:00.0", "nvme0", cmb_options);
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.1"), "0000:02:00.0", "nvme1");
}

TEST(ReadProof, SwitchPairsAreReadInMaxTransferCommands) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(2);
  t.SetKernel("6.12.117", std::nullopt);
  std::vector<cmb::ReadProofPair> pairs = Plan(t);
  ASSERT_EQ(pairs.size(), 3u);  // nvme0's CMB against nvme0n1, nvme1n1, nvme2n1
  const cmb::ReadProofPair& p = Find(pairs, "nvme1n1");
  EXPECT_TRUE(p.tried()) << p.skipped;
  EXPECT_EQ(p.verdict, "switch");
  EXPECT_FALSE(p.own_cmb);
  EXPECT_EQ(p.bytes, 4u << 20);
  EXPECT_EQ(p.command_bytes, 512u << 10);  // max_hw_sectors_kb
  EXPECT_EQ(p.path, cmb::DataPath::kPassthrough);
  EXPECT_EQ(p.provider_name, "nvme0");
  EXPECT_EQ(p.client_name, "nvme1");
  // 6.12 points at the data in the command: the owner takes full commands too.
  const cmb::ReadProofPair& own = Find(pairs, "nvme0n1");
  EXPECT_TRUE(own.own_cmb);
  EXPECT_EQ(own.command_bytes, 512u << 10);
}

// 7.3 puts a multi-page command's SGL list in host memory: on passthrough the
// owner reads its own CMB in one-page commands, on the block path in full ones.
TEST(ReadProof, OwnCmbFollowsTheOwnCmbPrediction) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  const cmb::ReadProofPair own = Find(Plan(t), "nvme0n1");
  EXPECT_TRUE(own.tried());
  EXPECT_EQ(own.command_bytes, 4096u);
  EXPECT_NE(own.note.find("own CMB"), std::string::npos) << own.note;
  const cmb::ReadProofPair block = Find(Plan(t, {.path = cmb::DataPath::kBlock}), "nvme0n1");
  EXPECT_EQ(block.path, cmb::DataPath::kBlock);
  EXPECT_EQ(block.command_bytes, 512u << 10);
  const cmb::ReadProofPair other = Find(Plan(t), "nvme1n1");
  EXPECT_EQ(other.command_bytes, 512u << 10);
}

TEST(ReadProof, RefusedPairsAreListedWithTheirReasonNotRead) {
  cmbtest::FakeSysfs t;
  AddRootComplex(t, {.cmb_mb = 64});
  std::vector<cmb::ReadProofPair> pairs = Plan(t);
  ASSERT_EQ(pairs.size(), 2u);
  const cmb::ReadProofPair& p = Find(pairs, "nvme1n1");
  EXPECT_FALSE(p.tried());
  EXPECT_EQ(p.verdict, "unsupported");
  EXPECT_NE(p.skipped.find("not read: the verdict is unsupported: "), std::string::npos) << p.skipped;
  EXPECT_EQ(p.bytes, 0u);
  absl::StatusOr<cmb::ReadProof> r = cmb::ProveRead(p);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  // The owner reaches its own CMB (distance 0) in any topology.
  EXPECT_TRUE(Find(pairs, "nvme0n1").tried());
}

TEST(ReadProof, AnUnknownVerdictIsNotRead) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  t.TruncateConfigs();  // unprivileged: ACS unreadable
  const cmb::ReadProofPair p = Find(Plan(t), "nvme1n1");
  EXPECT_EQ(p.verdict, "unknown");
  EXPECT_FALSE(p.tried());
  EXPECT_NE(p.skipped.find("the verdict is unknown"), std::string::npos) << p.skipped;
}

TEST(ReadProof, WithoutAllocateNothingIsRead) {
  cmbtest::FakeSysfs t;
  AddRootComplex(t, {.cmb_mb = 64, .allocate = false});
  for (const cmb::ReadProofPair& p : Plan(t)) {
    EXPECT_FALSE(p.tried()) << p.ns.name;
    if (p.own_cmb) {
      EXPECT_NE(p.skipped.find("p2pmem/allocate needs Linux 6.2"), std::string::npos) << p.skipped;
    }
  }
}

TEST(ReadProof, ASmallNamespaceIsReadWhole) {
  cmbtest::FakeSysfs t;
  std::string up = t.AddBridge(t.AddBridge(t.HostBridge(), "0000:00:1c.0"), "0000:01:00.0", 5, std::nullopt);
  t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6), "0000:03:00.0", "nvme0", {.cmb_mb = 64});
  t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1", {.capacity_bytes = 1 << 20});
  const cmb::ReadProofPair p = Find(Plan(t), "nvme1n1");
  EXPECT_EQ(p.bytes, 1u << 20);
  EXPECT_EQ(p.command_bytes, 512u << 10);
  EXPECT_NE(p.note.find("holds only 1048576 bytes"), std::string::npos) << p.note;
}

TEST(ReadProof, TheReadFitsTheFreeP2pMemInWholeLbas) {
  cmbtest::FakeSysfs t;
  std::string up = t.AddBridge(t.AddBridge(t.HostBridge(), "0000:00:1c.0"), "0000:01:00.0", 5, std::nullopt);
  t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6), "0000:03:00.0", "nvme0", {.cmb_mb = 64});
  t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1",
            {.lba_size = 4096, .capacity_bytes = 1ull << 30, .max_hw_sectors_kb = 128});
  t.Write("/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:00.0/0000:03:00.0/p2pmem/available",
          "3000000\n");  // 732 pages and a bit
  const cmb::ReadProofPair p = Find(Plan(t, {.bytes = 64 << 20}), "nvme1n1");
  EXPECT_EQ(p.bytes, 732u * 4096);
  EXPECT_EQ(p.command_bytes, 128u << 10);
  EXPECT_NE(p.note.find("only 3000000 bytes of nvme0's p2pmem are free"), std::string::npos) << p.note;
  // Asked for less than a command: one command of all of it, in whole LBAs.
  const cmb::ReadProofPair small = Find(Plan(t, {.bytes = 10000}), "nvme1n1");
  EXPECT_EQ(small.bytes, 8192u);
  EXPECT_EQ(small.command_bytes, 8192u);
}

// With no p2pmem free, the request stands, and the allocation names the bytes free.
TEST(ReadProof, ExhaustedP2pMemIsAClearErrorWithTheBytesFree) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(1);
  t.Write("/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:00.0/0000:03:00.0/p2pmem/available", "0\n");
  const cmb::ReadProofPair p = Find(Plan(t), "nvme1n1");
  ASSERT_TRUE(p.tried());
  EXPECT_EQ(p.bytes, 4u << 20);
  absl::StatusOr<cmb::ReadProof> r = cmb::ProveRead(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("only 0 of 67108864 are available"), std::string::npos) << r.status();
}

}  // namespace
