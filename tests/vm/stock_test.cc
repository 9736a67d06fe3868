// Runs inside the VM testbed's "stock" topology: Debian's own kernel, built
// without CONFIG_PCI_P2PDMA (trixie's 6.12, or bookworm's 6.1, which also
// predates p2pmem/allocate), on the same emulated devices. cmbinfo must say
// exactly that, and the library must refuse P2P memory with the reason.
#include <gtest/gtest.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <nlohmann/json.hpp>

#include "cmb/discovery.h"
#include "cmb/dma_buffer.h"
#include "cmb/kernel_rules.h"
#include "cmb/nvme_queue.h"
#include "run_command.h"
#include "scattered_pages.h"

namespace {

TEST(StockKernel, CmbinfoSaysNoP2pdmaAndWhy) {
  cmbtest::CommandResult r = cmbtest::RunCommand(CMBINFO_PATH " -o json");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kernel"]["p2pdma"], "no") << j["kernel"];
  const std::string evidence = j["kernel"]["evidence"];
  EXPECT_NE(evidence.find("CONFIG_PCI_P2PDMA is not set"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("trixie-backports"), std::string::npos) << "names the Debian kernel that has it: " << evidence;
  // Before 6.2 the second missing piece is named too; after, it is not.
  cmb::KernelRules rules = cmb::KernelRules::ForRunning(cmb::SysRoot());
  ASSERT_TRUE(rules.version) << rules.release;
  bool before_6_2 = *rules.version < cmb::KernelVersion{6, 2, 0};
  EXPECT_EQ(evidence.find("predates userspace p2pmem allocation") != std::string::npos, before_6_2)
      << rules.release << ": " << evidence;
  std::cout << "[stock] kernel " << rules.release << ": " << evidence << "\n";
  ASSERT_EQ(j["controllers"].size(), 3u);
  int cmb_seen = 0;
  for (const nlohmann::json& c : j["controllers"]) {
    EXPECT_TRUE(c["p2pmem"].is_null()) << c["name"];
    if (c["serial"] == "cmb") {
      ++cmb_seen;
      EXPECT_TRUE(c["cmb"].is_null());
      EXPECT_NE(c["cmb_note"].get<std::string>().find("failed to register"), std::string::npos) << c["cmb_note"];
    }
  }
  EXPECT_EQ(cmb_seen, 1);
  EXPECT_TRUE(j["p2p"].empty());
}

TEST(StockKernel, P2pMemAllocationNamesTheMissingPool) {
  absl::StatusOr<cmb::System> sys = cmb::Discover(cmb::SysRoot());
  ASSERT_TRUE(sys.ok());
  for (const cmb::Controller& c : sys->controllers) {
    if (c.serial != "cmb") continue;
    absl::StatusOr<cmb::DmaBuffer> b = cmb::AllocateP2pMem(cmb::SysRoot(), *c.address, 4096);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), absl::StatusCode::kNotFound);
    EXPECT_NE(b.status().message().find("no p2pmem pool"), std::string::npos) << b.status();
    return;
  }
  FAIL() << "no controller with serial cmb";
}

// cmbcp on this kernel: refused before writing (exit 4), saying the kernel
// lacks P2PDMA and offering the bounce path; with it, the copy is exact.
TEST(StockKernel, CmbcpRefusesWithTheKernelReasonAndBouncesWhenAsked) {
  std::string src, dst;
  absl::StatusOr<cmb::System> sys = cmb::Discover(cmb::SysRoot());
  ASSERT_TRUE(sys.ok());
  for (const cmb::Controller& c : sys->controllers) {
    if (c.serial == "src") src = c.name + ":1";
    if (c.serial == "dst") dst = c.name + ":1";
  }
  ASSERT_FALSE(src.empty() || dst.empty());
  ASSERT_EQ(cmbtest::RunCommand("dd if=/dev/urandom of=/dev/" + src.substr(0, src.size() - 2) +
                                "n1 bs=1M count=2 oflag=direct status=none").status, 0);
  cmbtest::CommandResult r = cmbtest::RunCommand(CMBCP_PATH " " + src + " " + dst + " --bytes 2M --no-progress");
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("no CMB is published as P2P memory on this machine"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CONFIG_PCI_P2PDMA is not set"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--allow-bounce"), std::string::npos) << r.out;
  cmbtest::CommandResult b =
      cmbtest::RunCommand(CMBCP_PATH " " + src + " " + dst + " --bytes 2M --no-progress --allow-bounce --verify");
  EXPECT_EQ(b.status, 0) << b.out;
  EXPECT_NE(b.out.find("bytes match"), std::string::npos) << b.out;
}

TEST(StockKernel, CommandsOfMaxTransferFitAnyBuffer) {
  absl::StatusOr<cmb::System> sys = cmb::Discover(cmb::SysRoot());
  ASSERT_TRUE(sys.ok()) << sys.status();
  for (const cmb::Controller& c : sys->controllers)
    if (c.serial == "src") return cmbtest::CheckMaxTransferOverScatteredPages(c.namespaces.at(0));
  FAIL() << "no controller with serial src";
}

}  // namespace
