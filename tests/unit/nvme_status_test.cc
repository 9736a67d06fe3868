// NVMe completion statuses become absl codes a caller can branch on: every
// mapped status, the DNR distinction for temporary conditions, the decoded
// fields, and the message (libnvme's text, SCT/SC, "do not retry", advice).
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_format.h"
#include "cmb/fix.h"
#include "cmb/nvme_queue.h"
#include "nvme_status.h"

namespace {

using Code = absl::StatusCode;

constexpr int32_t kDnr = 0x4000;
constexpr int32_t kMore = 0x2000;

int32_t Res(int sct, int sc) { return sct << 8 | sc; }

struct Row {
  int sct, sc;
  Code code;          // with DNR set (for every row)
  Code code_no_dnr;   // with DNR clear
  const char* words;  // in libnvme's description
};

// Written from the NVMe base and NVM command set specs, not from the code.
const Row kRows[] = {
    {0, 0x01, Code::kUnimplemented, Code::kUnimplemented, "Invalid Command Opcode"},
    {0, 0x02, Code::kInvalidArgument, Code::kInvalidArgument, "Invalid Field in Command"},
    {0, 0x03, Code::kInternal, Code::kInternal, "Command ID Conflict"},
    {0, 0x04, Code::kInternal, Code::kUnavailable, "Data Transfer Error"},
    {0, 0x05, Code::kAborted, Code::kAborted, "Power Loss"},
    {0, 0x06, Code::kInternal, Code::kInternal, "Internal Error"},
    {0, 0x07, Code::kAborted, Code::kAborted, "Abort Requested"},
    {0, 0x08, Code::kAborted, Code::kAborted, "SQ Deletion"},
    {0, 0x09, Code::kAborted, Code::kAborted, "Fused"},
    {0, 0x0a, Code::kAborted, Code::kAborted, "Fused"},
    {0, 0x0b, Code::kInvalidArgument, Code::kInvalidArgument, "Invalid Namespace or Format"},
    {0, 0x0c, Code::kInternal, Code::kInternal, "Command Sequence Error"},
    {0, 0x0d, Code::kInvalidArgument, Code::kInvalidArgument, "SGL"},
    {0, 0x0e, Code::kInvalidArgument, Code::kInvalidArgument, "SGL"},
    {0, 0x0f, Code::kInvalidArgument, Code::kInvalidArgument, "Data SGL Length Invalid"},
    {0, 0x10, Code::kInvalidArgument, Code::kInvalidArgument, "Metadata SGL Length Invalid"},
    {0, 0x11, Code::kInvalidArgument, Code::kInvalidArgument, "SGL Descriptor Type Invalid"},
    {0, 0x12, Code::kFailedPrecondition, Code::kFailedPrecondition, "Invalid Use of Controller Memory Buffer"},
    {0, 0x13, Code::kInvalidArgument, Code::kInvalidArgument, "PRP Offset Invalid"},
    {0, 0x14, Code::kInvalidArgument, Code::kInvalidArgument, "Atomic Write Unit Exceeded"},
    {0, 0x15, Code::kPermissionDenied, Code::kPermissionDenied, "Operation Denied"},
    {0, 0x16, Code::kInvalidArgument, Code::kInvalidArgument, "SGL Offset Invalid"},
    {0, 0x1b, Code::kAborted, Code::kAborted, "Preempt and Abort"},
    {0, 0x1c, Code::kFailedPrecondition, Code::kFailedPrecondition, "Sanitize Failed"},
    {0, 0x1d, Code::kFailedPrecondition, Code::kUnavailable, "Sanitize In Progress"},
    {0, 0x1e, Code::kInvalidArgument, Code::kInvalidArgument, "SGL Data Block Granularity Invalid"},
    {0, 0x1f, Code::kFailedPrecondition, Code::kFailedPrecondition, "Queue in CMB"},
    {0, 0x20, Code::kPermissionDenied, Code::kPermissionDenied, "Write Protected"},
    {0, 0x21, Code::kAborted, Code::kUnavailable, "Command Interrupted"},
    {0, 0x22, Code::kAborted, Code::kUnavailable, "Transient Transport Error"},
    {0, 0x23, Code::kPermissionDenied, Code::kPermissionDenied, "Command Prohibited"},
    {0, 0x24, Code::kFailedPrecondition, Code::kUnavailable, "Media Not Ready"},
    {0, 0x80, Code::kOutOfRange, Code::kOutOfRange, "LBA Out of Range"},
    {0, 0x81, Code::kResourceExhausted, Code::kResourceExhausted, "Capacity Exceeded"},
    {0, 0x82, Code::kFailedPrecondition, Code::kUnavailable, "Namespace Not Ready"},
    {0, 0x83, Code::kPermissionDenied, Code::kPermissionDenied, "Reservation Conflict"},
    {0, 0x84, Code::kFailedPrecondition, Code::kUnavailable, "Format In Progress"},
    {1, 0x80, Code::kInvalidArgument, Code::kInvalidArgument, "Conflicting Attributes"},
    {1, 0x81, Code::kInvalidArgument, Code::kInvalidArgument, "Invalid Protection Information"},
    {1, 0x82, Code::kPermissionDenied, Code::kPermissionDenied, "Read Only Range"},
    {1, 0x83, Code::kInvalidArgument, Code::kInvalidArgument, "Command Size Limit Exceeded"},
    {2, 0x80, Code::kDataLoss, Code::kDataLoss, "Write Fault"},
    {2, 0x81, Code::kDataLoss, Code::kDataLoss, "Unrecovered Read Error"},
    {2, 0x82, Code::kDataLoss, Code::kDataLoss, "Guard Check Error"},
    {2, 0x83, Code::kDataLoss, Code::kDataLoss, "Application Tag Check Error"},
    {2, 0x84, Code::kDataLoss, Code::kDataLoss, "Reference Tag Check Error"},
    {2, 0x85, Code::kAborted, Code::kAborted, "Compare Failure"},
    {2, 0x86, Code::kPermissionDenied, Code::kPermissionDenied, "Access Denied"},
    {2, 0x87, Code::kNotFound, Code::kNotFound, "Deallocated or Unwritten Logical Block"},
    {2, 0x88, Code::kDataLoss, Code::kDataLoss, "Storage Tag Check Error"},
    {3, 0x00, Code::kInternal, Code::kUnavailable, "Internal Path Error"},
    {3, 0x01, Code::kFailedPrecondition, Code::kFailedPrecondition, "Persistent Loss"},
    {3, 0x02, Code::kFailedPrecondition, Code::kUnavailable, "Inaccessible"},
    {3, 0x03, Code::kFailedPrecondition, Code::kUnavailable, "Transition"},
    {3, 0x60, Code::kInternal, Code::kUnavailable, "Controller Pathing Error"},
    {3, 0x70, Code::kFailedPrecondition, Code::kUnavailable, "Host Pathing Error"},
    {3, 0x71, Code::kAborted, Code::kAborted, "Aborted By Host"},
};

TEST(NvmeStatus, EveryMappedStatusHasItsCode) {
  for (const Row& r : kRows) {
    for (bool dnr : {true, false}) {
      absl::Status s = cmb::internal::NvmeStatusError(Res(r.sct, r.sc) | (dnr ? kDnr : 0), "/dev/ng1n1");
      std::string where = absl::StrFormat("SCT %d SC 0x%02x DNR %d: ", r.sct, r.sc, dnr);
      EXPECT_EQ(s.code(), dnr ? r.code : r.code_no_dnr) << where << s;
      EXPECT_NE(s.message().find(r.words), std::string::npos) << where << s;
      EXPECT_NE(s.message().find(absl::StrFormat("(SCT 0x%x SC 0x%02x", r.sct, r.sc)), std::string::npos)
          << where << s;
      EXPECT_EQ(s.message().find("do not retry") != std::string::npos, dnr) << where << s;
      EXPECT_NE(s.message().find("NVMe status on /dev/ng1n1: "), std::string::npos) << where << s;
    }
  }
}

TEST(NvmeStatus, TemporaryConditionIsUnavailableOnlyWhileDnrIsClear) {
  absl::Status retry = cmb::internal::NvmeStatusError(Res(0, 0x82), "/dev/ng1n1");
  EXPECT_TRUE(absl::IsUnavailable(retry)) << retry;
  EXPECT_NE(retry.message().find("may succeed later"), std::string::npos) << retry;
  absl::Status stuck = cmb::internal::NvmeStatusError(Res(0, 0x82) | kDnr, "/dev/ng1n1");
  EXPECT_TRUE(absl::IsFailedPrecondition(stuck)) << stuck;
  EXPECT_EQ(stuck.message().find("may succeed later"), std::string::npos) << stuck;
  // A persistent meaning keeps its code either way: only the message differs.
  EXPECT_TRUE(absl::IsDataLoss(cmb::internal::NvmeStatusError(Res(2, 0x81), "d")));
  EXPECT_TRUE(absl::IsDataLoss(cmb::internal::NvmeStatusError(Res(2, 0x81) | kDnr, "d")));
}

TEST(NvmeStatus, UnlistedStatusesAreUnknownAndMediaOnesDataLoss) {
  EXPECT_EQ(cmb::internal::NvmeStatusError(Res(7, 0x01), "d").code(), Code::kUnknown);    // vendor specific
  EXPECT_EQ(cmb::internal::NvmeStatusError(Res(1, 0xb9), "d").code(), Code::kUnknown);    // Zone Is Full
  EXPECT_EQ(cmb::internal::NvmeStatusError(Res(0, 0x7f), "d").code(), Code::kUnknown);    // reserved
  absl::Status media = cmb::internal::NvmeStatusError(Res(2, 0xc0), "d");  // vendor specific media error
  EXPECT_EQ(media.code(), Code::kDataLoss) << media;
  const std::vector<cmb::Fix> fixes = cmb::FixesOf(media);
  ASSERT_EQ(fixes.size(), 1u) << media;
  EXPECT_EQ(fixes[0].look, cmb::Fix::Look::kHealthLog);
  EXPECT_EQ(fixes[0].device, "d");
}

TEST(NvmeStatus, DecodesEveryField) {
  EXPECT_FALSE(cmb::internal::DecodeNvmeStatus(0).has_value());
  EXPECT_FALSE(cmb::internal::DecodeNvmeStatus(-5).has_value());
  std::optional<cmb::internal::NvmeStatus> s = cmb::internal::DecodeNvmeStatus(kDnr | kMore | 2 << 11 | Res(2, 0x81));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->sct, 2);
  EXPECT_EQ(s->sc, 0x81);
  EXPECT_EQ(s->crd, 2);
  EXPECT_TRUE(s->more);
  EXPECT_TRUE(s->dnr);
  s = cmb::internal::DecodeNvmeStatus(Res(3, 0x70));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->sct, 3);
  EXPECT_EQ(s->sc, 0x70);
  EXPECT_EQ(s->crd, 0);
  EXPECT_FALSE(s->more);
  EXPECT_FALSE(s->dnr);
}

TEST(NvmeStatus, MoreBitPointsAtTheErrorLogAndFlagsAloneAreSuccess) {
  absl::Status s = cmb::internal::NvmeStatusError(Res(2, 0x80) | kMore, "d");  // Write Fault: look at its health
  EXPECT_NE(s.message().find("Error Information log has more"), std::string::npos) << s;
  std::vector<cmb::Fix> fixes = cmb::FixesOf(s);
  ASSERT_EQ(fixes.size(), 2u) << s;
  EXPECT_EQ(fixes[0].look, cmb::Fix::Look::kHealthLog);
  EXPECT_EQ(fixes[1].look, cmb::Fix::Look::kErrorLog) << "the More bit adds the error log";
  EXPECT_EQ(cmb::FixesOf(cmb::internal::NvmeStatusError(Res(2, 0x80), "d")).size(), 1u);
  // SCT 0 SC 0 is Successful Completion, whatever the flag bits say.
  EXPECT_TRUE(cmb::internal::NvmeStatusError(kMore, "d").ok());
}

TEST(NvmeStatus, ExplainUsesTheMapping) {
  cmb::Namespace ns;
  ns.name = "nvme1n1";
  ns.generic_device = "/dev/ng1n1";
  absl::Status s = cmb::NvmeQueue::Explain(Res(0, 0x80) | kDnr, ns, {});
  EXPECT_TRUE(absl::IsOutOfRange(s)) << s;
  EXPECT_NE(s.message().find("NVMe status on /dev/ng1n1: LBA Out of Range"), std::string::npos) << s;
  EXPECT_NE(s.message().find("(SCT 0x0 SC 0x80, do not retry)"), std::string::npos) << s;
  s = cmb::NvmeQueue::Explain(Res(0, 0x12) | kDnr, ns, {});
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("Controller Memory Buffer"), std::string::npos) << s;
}

}  // namespace
