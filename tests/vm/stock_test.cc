// Runs inside the VM testbed's "stock" topology: Debian's own kernel, built
// without CONFIG_PCI_P2PDMA, on the same emulated devices. cmbinfo must say
// exactly that, and the library must refuse P2P memory with the reason.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cmb/discovery.h"
#include "cmb/dma_buffer.h"
#include "run_command.h"

namespace {

TEST(StockKernel, CmbinfoSaysNoP2pdmaAndWhy) {
  cmbtest::CommandResult r = cmbtest::RunCommand(CMBINFO_PATH " -o json");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kernel"]["p2pdma"], "no") << j["kernel"];
  EXPECT_NE(j["kernel"]["evidence"].get<std::string>().find("CONFIG_PCI_P2PDMA is not set"), std::string::npos);
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

}  // namespace
