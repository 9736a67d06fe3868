// CMBLOC/CMBSZ decoding, PCI addresses and config-space walking.
#include <gtest/gtest.h>

#include "cmb/cmb_registers.h"
#include "cmb/pci_address.h"
#include "cmb/pci_config.h"
#include "fake_sysfs.h"

namespace {

TEST(CmbRegisters, EveryCmbszField) {
  // SZ=0x40 SZU=2 (1 MiB), WDS RDS LISTS CQS SQS = QEMU's 64 MiB CMB.
  cmb::CmbSz s = cmb::DecodeCmbSz(0x0004021f);
  EXPECT_TRUE(s.sqs && s.cqs && s.lists && s.rds && s.wds);
  EXPECT_EQ(s.szu, 2);
  EXPECT_EQ(s.sz, 0x40u);
  for (int bit = 0; bit < 5; ++bit) {
    cmb::CmbSz one = cmb::DecodeCmbSz(1u << bit);
    EXPECT_EQ(one.sqs + one.cqs + one.lists + one.rds + one.wds, 1) << "bit " << bit;
  }
  EXPECT_TRUE(cmb::DecodeCmbSz(1u << 3).rds);
  EXPECT_TRUE(cmb::DecodeCmbSz(1u << 4).wds);
  EXPECT_EQ(cmb::DecodeCmbSz(0xfffff000u).sz, 0xfffffu);
  EXPECT_EQ(cmb::DecodeCmbSz(0x00000f00u).szu, 0xf);
}

TEST(CmbRegisters, EveryCmblocField) {
  cmb::CmbLoc l = cmb::DecodeCmbLoc(0xfffff1fdu);
  EXPECT_EQ(l.bir, 5);
  EXPECT_TRUE(l.cqmms && l.cqpds && l.cdpmls && l.cdpcils && l.cdmmms && l.cqda);
  EXPECT_EQ(l.ofst, 0xfffffu);
  const int bits[] = {3, 4, 5, 6, 7, 8};
  for (int b : bits) {
    cmb::CmbLoc one = cmb::DecodeCmbLoc(1u << b);
    EXPECT_EQ(one.cqmms + one.cqpds + one.cdpmls + one.cdpcils + one.cdmmms + one.cqda, 1) << b;
    EXPECT_EQ(one.bir, 0);
    EXPECT_EQ(one.ofst, 0u);
  }
  EXPECT_TRUE(cmb::DecodeCmbLoc(1u << 8).cqda);
  EXPECT_TRUE(cmb::DecodeCmbLoc(1u << 3).cqmms);
  EXPECT_FALSE(cmb::DecodeCmbLoc(1u << 9).cqda) << "bits 11:9 are reserved";
}

// What QEMU's emulated controller advertises (hw/nvme/ctrl.c nvme_init_cmb:
// BIR 2, CDPCILS and CDPMLS set), as the guest reads it.
TEST(CmbRegisters, QemusCmbloc) {
  cmb::CmbLoc l = cmb::DecodeCmbLoc(0x62);
  EXPECT_EQ(l.bir, 2);
  EXPECT_TRUE(l.cdpmls);
  EXPECT_TRUE(l.cdpcils);
  EXPECT_FALSE(l.cqmms || l.cqpds || l.cdmmms || l.cqda);
}

TEST(CmbRegisters, SizesForEveryUnit) {
  const uint64_t units[] = {4ull << 10, 64ull << 10, 1ull << 20, 16ull << 20, 256ull << 20, 4ull << 30, 64ull << 30};
  for (uint32_t szu = 0; szu <= 6; ++szu) {
    absl::StatusOr<cmb::CmbRegisters> r = cmb::DecodeCmb(2u | 3u << 12, 3u << 12 | szu << 8 | 0x18);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->unit_bytes, units[szu]);
    EXPECT_EQ(r->size_bytes, 3 * units[szu]);
    EXPECT_EQ(r->offset_bytes, 3 * units[szu]);
  }
  // Largest: SZ=0xfffff in 64 GiB units does not overflow 64 bits.
  absl::StatusOr<cmb::CmbRegisters> big = cmb::DecodeCmb(0, 0xfffff600u);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->size_bytes, 0xfffffull * (64ull << 30));
}

TEST(CmbRegisters, ReservedValuesAreErrors) {
  for (uint32_t szu = 7; szu <= 15; ++szu) {
    absl::StatusOr<cmb::CmbRegisters> r = cmb::DecodeCmb(2, 1u << 12 | szu << 8);
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("SZU"), std::string::npos);
  }
  for (uint32_t bir : {1u, 6u, 7u}) EXPECT_FALSE(cmb::DecodeCmb(bir, 1u << 12).ok()) << bir;
  for (uint32_t bir : {0u, 2u, 3u, 4u, 5u}) EXPECT_TRUE(cmb::DecodeCmb(bir, 1u << 12).ok()) << bir;
  absl::StatusOr<cmb::CmbRegisters> zero = cmb::DecodeCmb(0, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->size_bytes, 0u);
}

TEST(PciAddress, ParsesAndFormats) {
  absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse("0000:03:1f.7");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->bus, 3);
  EXPECT_EQ(a->device, 0x1f);
  EXPECT_EQ(a->function, 7);
  EXPECT_EQ(a->ToString(), "0000:03:1f.7");
  EXPECT_EQ(cmb::PciAddress::Parse("03:00.0")->ToString(), "0000:03:00.0");
  EXPECT_EQ(cmb::PciAddress::Parse("10000:e1:00.0")->ToString(), "10000:e1:00.0");
  EXPECT_EQ(cmb::PciAddress::Parse("ABCD:EF:01.2")->ToString(), "abcd:ef:01.2");
}

TEST(PciAddress, RejectsMalformed) {
  for (const char* bad : {"", "0000:03:20.0", "0000:03:00.8", "0000:103:00.0", "0000:03:00", "0000:03:00.0.1",
                          "x000:03:00.0", "0000:03:00.-1", ":03:00.0", "0000::00.0", "1:2:3:00.0",
                          "+0000:03:00.0", "0000:0g:00.0"}) {
    absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse(bad);
    EXPECT_FALSE(a.ok()) << bad;
    if (!a.ok()) {
      EXPECT_NE(a.status().message().find("DDDD:BB:DD.F"), std::string::npos);
    }
  }
}

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
