// Fixes as data (cmb/fix.h): they ride in a Status through copies and
// rewording, in order, and an OK status takes none.
#include "cmb/fix.h"

#include <gtest/gtest.h>

namespace {

using cmb::Fix;

TEST(Fix, TravelsInTheStatusInOrder) {
  absl::Status s = absl::FailedPreconditionError("nvme3n1 has no poll queues");
  const Fix module{.kind = Fix::Kind::kModuleParameter, .module = "nvme", .parameter = "poll_queues", .value = "2"};
  const Fix look{.kind = Fix::Kind::kInspect, .look = Fix::Look::kKernelLog};
  cmb::AddFix(s, module);
  cmb::AddFix(s, look);
  const absl::Status copy = s;
  const std::vector<Fix> got = cmb::FixesOf(copy);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], module);
  EXPECT_EQ(got[1], look);
}

TEST(Fix, RewordingKeepsTheCodeAndTheFixes) {
  const Fix grant{.kind = Fix::Kind::kGrantAccess, .device = "/dev/ng1n1", .group = "cmb", .list = "/etc/cmb/devices"};
  const absl::Status s = cmb::WithFix(absl::PermissionDeniedError("cannot open /dev/ng1n1"), grant);
  const absl::Status r = cmb::Reworded(s, "writing nvme1n1 LBAs 0..7: cannot open /dev/ng1n1");
  EXPECT_EQ(r.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(r.message(), "writing nvme1n1 LBAs 0..7: cannot open /dev/ng1n1");
  ASSERT_EQ(cmb::FixesOf(r).size(), 1u);
  EXPECT_EQ(cmb::FixesOf(r)[0], grant);
}

TEST(Fix, AnOkStatusTakesNoneAndAPlainOneHasNone) {
  absl::Status ok;
  cmb::AddFix(ok, {.kind = Fix::Kind::kKernel, .need = "CONFIG_PCI_P2PDMA"});
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(cmb::FixesOf(ok).empty());
  EXPECT_TRUE(cmb::FixesOf(absl::InternalError("x")).empty());
}

TEST(Fix, AnOptionAndItsValueTravelToo) {
  const Fix chunk = cmb::SetOption(Fix::Option::kChunkBytes, "a multiple of 4096");
  const absl::Status s = cmb::WithFix(cmb::WithFix(absl::InvalidArgumentError("x"), chunk),
                                      cmb::SetOption(Fix::Option::kVia));
  const std::vector<Fix> got = cmb::FixesOf(s);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], chunk);
  EXPECT_EQ(got[1].kind, Fix::Kind::kSetOption);
  EXPECT_EQ(got[1].option, Fix::Option::kVia);
  EXPECT_EQ(got[1].value, "");
}

TEST(Fix, EveryLookHasAName) {
  for (Fix::Look l : {Fix::Look::kP2pVerdicts, Fix::Look::kCmbRegisters, Fix::Look::kNamespaces, Fix::Look::kErrorLog,
                      Fix::Look::kHealthLog, Fix::Look::kKernelLog, Fix::Look::kReservations, Fix::Look::kSanitizeLog})
    EXPECT_STRNE(cmb::LookName(l), "") << static_cast<int>(l);
}

}  // namespace
