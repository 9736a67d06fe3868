// CMBLOC/CMBSZ decoding (cmb_registers.h).
#include <gtest/gtest.h>

#include "cmb/cmb_registers.h"

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

}  // namespace
