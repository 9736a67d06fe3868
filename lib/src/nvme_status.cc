#include "nvme_status.h"

extern "C" {  // libnvme 1.3 headers lack C++ guards
#include <nvme/util.h>
}

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/substitute.h"
#include "cmb/kernel_rules.h"
#include "cmb/fix.h"

namespace cmb::internal {
namespace {

using Code = absl::StatusCode;
using ::cmb::AddFix;
using ::cmb::Fix;
using Look = ::cmb::Fix::Look;

constexpr char kSgl[] =
    "the controller rejected the scatter-gather list the kernel built for the data buffer; smaller chunks may "
    "avoid it";

constexpr NvmeStatusRow kMeanings[] = {
    {0, 0x01, Code::kUnimplemented, false,
     "the controller does not implement this command; use a method that does not need it"},
    {0, 0x02, Code::kInvalidArgument, false,
     "the command is not valid for this controller or namespace, or uses an optional feature it lacks"},
    {0, 0x03, Code::kInternal, false, "a fault of the driver or controller; report it with the kernel's messages", Look::kKernelLog},
    {0, 0x04, Code::kInternal, true,
     "the controller could not move the data over PCIe; with a buffer in a CMB, the P2P path may be blocked "
     "(ACS redirect, an IOMMU): check the pair's P2P verdict", Look::kP2pVerdicts},
    {0, 0x05, Code::kAborted, false, "aborted by a power loss notification; check the device's power"},
    {0, 0x06, Code::kInternal, false,
     "the controller failed internally; its error log shows details", Look::kErrorLog},
    {0, 0x07, Code::kAborted, false,
     "aborted by an Abort command, usually the kernel's timeout handler: the device was slow or hung",
     Look::kKernelLog},
    {0, 0x08, Code::kAborted, false,
     "aborted because its queue was deleted: the controller was reset or shut down", Look::kKernelLog},
    {0, 0x09, Code::kAborted, false, "aborted with its fused command"},
    {0, 0x0a, Code::kAborted, false, "aborted: its fused command was missing"},
    {0, 0x0b, Code::kInvalidArgument, false,
     "the namespace may have been deleted, detached or reformatted", Look::kNamespaces},
    {0, 0x0c, Code::kInternal, false, "a fault of the driver or controller; report it with the kernel's messages",
     Look::kKernelLog},
    {0, 0x0d, Code::kInvalidArgument, false, kSgl},
    {0, 0x0e, Code::kInvalidArgument, false, kSgl},
    {0, 0x0f, Code::kInvalidArgument, false, kSgl},
    {0, 0x10, Code::kInvalidArgument, false, kSgl},
    {0, 0x11, Code::kInvalidArgument, false, kSgl},
    {0, 0x12, Code::kFailedPrecondition, false,
     "the controller cannot use its own CMB this way (CMBSZ lacks WDS or RDS, or, since Linux $0, the SGL list of "
     "a command over one page is in host memory while its data is in the CMB); use one-page commands, "
     "copy through another CMB, or through host memory"},
    {0, 0x13, Code::kInvalidArgument, false, "the data buffer is not aligned as the controller needs"},
    {0, 0x14, Code::kInvalidArgument, false,
     "the write is larger than the controller's atomic write unit; use smaller chunks"},
    {0, 0x15, Code::kPermissionDenied, false, "the controller's security or policy refused the command"},
    {0, 0x16, Code::kInvalidArgument, false, kSgl},
    {0, 0x1b, Code::kAborted, false, "another host preempted a reservation on the namespace", Look::kReservations},
    {0, 0x1c, Code::kFailedPrecondition, false,
     "the last sanitize failed; the namespace is unusable until a sanitize succeeds"},
    {0, 0x1d, Code::kFailedPrecondition, true, "a sanitize is in progress", Look::kSanitizeLog},
    {0, 0x1e, Code::kInvalidArgument, false, kSgl},
    {0, 0x1f, Code::kFailedPrecondition, false,
     "the nvme driver put its submission queues in the CMB (module parameter use_cmb_sqes)", std::nullopt,
     NvmeStatusRow::Parameter{"nvme", "use_cmb_sqes", "0"}},
    {0, 0x20, Code::kPermissionDenied, false,
     "the namespace is write protected; clear its write protection or write elsewhere"},
    {0, 0x21, Code::kAborted, true, "the controller interrupted the command"},
    {0, 0x22, Code::kAborted, true, "a transport error"},
    {0, 0x23, Code::kPermissionDenied, false, "Command and Feature Lockdown prohibits the command"},
    {0, 0x24, Code::kFailedPrecondition, true, "the media is not ready"},
    {0, 0x80, Code::kOutOfRange, false,
     "the LBAs are beyond the namespace as the controller sees it: it may have been resized or reformatted",
     Look::kNamespaces},
    {0, 0x81, Code::kResourceExhausted, false,
     "the thin-provisioned namespace is full; free space on it or write elsewhere"},
    {0, 0x82, Code::kFailedPrecondition, true, "the namespace is not ready; its controller's error log may say why", Look::kErrorLog},
    {0, 0x83, Code::kPermissionDenied, false, "another host holds a reservation on the namespace", Look::kReservations},
    {0, 0x84, Code::kFailedPrecondition, true, "a Format NVM is in progress"},
    {1, 0x80, Code::kInvalidArgument, false, "the command's attributes conflict"},
    {1, 0x81, Code::kInvalidArgument, false,
     "the namespace is formatted with end-to-end protection information the command does not provide; use a "
     "namespace without it"},
    {1, 0x82, Code::kPermissionDenied, false, "the LBA range is read-only"},
    {1, 0x83, Code::kInvalidArgument, false,
     "the Copy is larger than the controller's limits (MSSRL, MCL); use smaller chunks"},
    {2, 0x80, Code::kDataLoss, false, "the destination could not store the data; check its health", Look::kHealthLog},
    {2, 0x81, Code::kDataLoss, false,
     "the source LBAs cannot be read: their data is lost; check its health", Look::kHealthLog},
    {2, 0x82, Code::kDataLoss, false, "the data failed its end-to-end protection check: it is corrupt"},
    {2, 0x83, Code::kDataLoss, false, "the data failed its end-to-end protection check: it is corrupt"},
    {2, 0x84, Code::kDataLoss, false, "the data failed its end-to-end protection check: it is corrupt"},
    {2, 0x85, Code::kAborted, false, "the data on the namespace differs from the compared data"},
    {2, 0x86, Code::kPermissionDenied, false, "the namespace or LBA range denies access to this host"},
    {2, 0x87, Code::kNotFound, false,
     "the LBAs were never written or were deallocated, and the namespace reports that as an error (DULBE); write "
     "them first, or clear DULBE (Error Recovery feature)"},
    {2, 0x88, Code::kDataLoss, false, "the data failed its end-to-end protection check: it is corrupt"},
    {3, 0x00, Code::kInternal, true, "an internal path error in the controller"},
    {3, 0x01, Code::kFailedPrecondition, false,
     "the controller has lost access to the namespace for good (ANA persistent loss)"},
    {3, 0x02, Code::kFailedPrecondition, true,
     "the namespace is inaccessible through this controller (ANA); use another path"},
    {3, 0x03, Code::kFailedPrecondition, true, "the namespace's ANA state is changing"},
    {3, 0x60, Code::kInternal, true, "the controller detected a pathing error"},
    {3, 0x70, Code::kFailedPrecondition, true,
     "the kernel failed the command without sending it: the controller is not live (resetting, or being removed)",
     Look::kKernelLog},
    {3, 0x71, Code::kAborted, false,
     "the kernel cancelled the command: the controller was reset or removed", Look::kKernelLog},
};

const NvmeStatusRow* Find(const NvmeStatus& s) {
  for (const NvmeStatusRow& m : kMeanings)
    if (m.sct == s.sct && m.sc == s.sc) return &m;
  return nullptr;
}

// The row for a status the table does not name.
NvmeStatusRow Unlisted(const NvmeStatus& s) {
  if (s.sct == 2)
    return {s.sct, s.sc, Code::kDataLoss, false, "a media or data integrity error; check the device's health",
            Look::kHealthLog};
  return {s.sct, s.sc, Code::kUnknown, false, "the controller's error log may say more", Look::kErrorLog};
}

}  // namespace

std::span<const NvmeStatusRow> NvmeStatusTable() { return kMeanings; }

std::string NvmeStatusAdvice(const NvmeStatusRow& row) {
  return absl::Substitute(absl::string_view(row.advice.data(), row.advice.size()), KernelSince::kHostListP2p.ToString());
}

std::string NvmeStatusName(uint8_t sct, uint8_t sc) {
  return nvme_status_to_string(static_cast<int>(sct) << 8 | sc, false);
}

std::optional<NvmeStatus> DecodeNvmeStatus(int32_t res) {
  if (res <= 0) return std::nullopt;
  NvmeStatus s;
  s.sc = static_cast<uint8_t>(res & 0xff);
  s.sct = static_cast<uint8_t>(res >> 8 & 0x7);
  s.crd = static_cast<uint8_t>(res >> 11 & 0x3);
  s.more = (res & 0x2000) != 0;
  s.dnr = (res & 0x4000) != 0;
  return s;
}

// The fixes a status carries: its row's module parameter, where to look,
// and the error log when the controller says it has more.
static void AddStatusFixes(absl::Status& st, const NvmeStatus& s, const NvmeStatusRow& row, std::string_view device) {
  const std::string dev(device);
  if (const std::optional<NvmeStatusRow::Parameter>& p = row.parameter)
    AddFix(st, {.kind = Fix::Kind::kModuleParameter, .module = std::string(p->module),
                .parameter = std::string(p->parameter), .value = std::string(p->value)});
  const std::optional<Fix::Look> look = row.look;
  if (look) AddFix(st, {.kind = Fix::Kind::kInspect, .look = *look, .device = dev});
  if (s.more && look != Fix::Look::kErrorLog)
    AddFix(st, {.kind = Fix::Kind::kInspect, .look = Fix::Look::kErrorLog, .device = dev});
}

absl::Status NvmeStatusError(int32_t res, std::string_view device) {
  std::optional<NvmeStatus> s = DecodeNvmeStatus(res);
  if (!s || (s->sct == 0 && s->sc == 0)) return absl::OkStatus();  // only CRD/More/DNR bits: still success
  const NvmeStatusRow* listed = Find(*s);
  const NvmeStatusRow m = listed ? *listed : Unlisted(*s);
  Code code = m.code;
  std::string advice = NvmeStatusAdvice(m);
  if (m.temporary && !s->dnr) {
    code = Code::kUnavailable;
    advice += " (temporary: the same command may succeed later)";
  }
  if (s->more) advice += "; the controller's Error Information log has more";
  absl::Status st(code, absl::StrFormat("NVMe status on %s: %s (SCT 0x%x SC 0x%02x%s): %s", device,
                                        nvme_status_to_string(res & 0x7ff, false), s->sct, s->sc,
                                        s->dnr ? ", do not retry" : "", advice));
  AddStatusFixes(st, *s, m, device);
  return st;
}

}  // namespace cmb::internal
