// Config-space capability walks (pci_config.h): ACS, the PCIe type, and lists that loop.
#include <gtest/gtest.h>

#include "cmb/pci_config.h"
#include "fake_sysfs.h"

namespace {

TEST(PciConfig, FindsAcsAndPcieType) {
  std::vector<uint8_t> cfg = cmbtest::MakeConfig(0x1b36, 0xe, 6, uint16_t{0x001d});
  EXPECT_EQ(cmb::PcieType(cfg), 6);
  EXPECT_EQ(cmb::FindExtCapability(cfg, cmb::kPciExtCapAcs), 0x148);
  cmb::AcsRead acs = cmb::ParseAcs(cfg, 4096);
  EXPECT_EQ(acs.state, cmb::AcsState::kRedirect);
  EXPECT_EQ(acs.ctrl, 0x001d);
  EXPECT_EQ(cmb::AcsCtrlToString(acs.ctrl), "SV+RR+CR+UF");
}

TEST(PciConfig, EachRedirectBitCounts) {
  for (uint16_t bit : {uint16_t{0x4}, uint16_t{0x8}, uint16_t{0x10}})
    EXPECT_EQ(cmb::ParseAcs(cmbtest::MakeConfig(1, 2, 6, bit), 4096).state, cmb::AcsState::kRedirect) << bit;
  for (uint16_t bit : {uint16_t{0x1}, uint16_t{0x2}, uint16_t{0x20}, uint16_t{0x40}, uint16_t{0}})
    EXPECT_EQ(cmb::ParseAcs(cmbtest::MakeConfig(1, 2, 6, bit), 4096).state, cmb::AcsState::kNoRedirect) << bit;
}

TEST(PciConfig, NoAcsUnreadableAndConventional) {
  std::vector<uint8_t> no_acs = cmbtest::MakeConfig(1, 2, 4, std::nullopt);
  EXPECT_EQ(cmb::ParseAcs(no_acs, 4096).state, cmb::AcsState::kNoCapability);
  std::vector<uint8_t> first64(no_acs.begin(), no_acs.begin() + 64);
  EXPECT_EQ(cmb::ParseAcs(first64, 4096).state, cmb::AcsState::kUnknown);
  EXPECT_EQ(cmb::PcieType(first64), std::nullopt);
  EXPECT_EQ(cmb::ParseAcs(first64, 256).state, cmb::AcsState::kNoCapability);
}

TEST(PciConfig, LoopingCapabilityListsTerminate) {
  std::vector<uint8_t> cfg = cmbtest::MakeConfig(1, 2, 4, std::nullopt);
  cfg[0x41] = 0x40;  // PM points at itself
  EXPECT_EQ(cmb::PcieType(cfg), std::nullopt);
  cfg = cmbtest::MakeConfig(1, 2, 4, std::nullopt);
  cfg[0x102] = 0x01;  // AER next = 0x100 (itself)
  cfg[0x103] = 0x10;
  EXPECT_EQ(cmb::FindExtCapability(cfg, cmb::kPciExtCapAcs), std::nullopt);
  std::vector<uint8_t> ones(4096, 0xff);
  EXPECT_EQ(cmb::FindExtCapability(ones, cmb::kPciExtCapAcs), std::nullopt);
  EXPECT_EQ(cmb::PcieType(ones), std::nullopt);
}

}  // namespace
