// Private: NVMe completion statuses as absl::Status codes a caller can branch
// on. `res` is what io_uring passthrough returns for a failed command: the
// CQE status field shifted right by one (phase bit dropped, as the kernel's
// nvme_req(req)->status), i.e. SC bits 0-7, SCT 8-10, CRD 11-12, More 13,
// DNR 14. The commands are I/O commands of the NVM command set, so
// command-specific codes (SCT 1) are read as such.
//
//   if (res > 0) return NvmeStatusError(res, "/dev/ng1n1");
//   // NVMe status on /dev/ng1n1: LBA Out of Range: ... (SCT 0x0 SC 0x80, do not retry): ...
//
// The mapping (docs/troubleshooting.md has what to do for each):
//
//   SCT SC            meaning                               code
//   0   0x01          Invalid Command Opcode                Unimplemented
//   0   0x02          Invalid Field in Command              InvalidArgument
//   0   0x03, 0x0c    Command ID Conflict, Sequence Error   Internal
//   0   0x04          Data Transfer Error                   Unavailable* / Internal
//   0   0x05 0x07 0x08 0x09 0x0a 0x1b  Command Aborted (power loss,
//                     Abort, SQ deletion, fused, preempt)   Aborted
//   0   0x06          Internal Error                        Internal
//   0   0x0b          Invalid Namespace or Format           InvalidArgument
//   0   0x0d-0x11 0x16 0x1e  SGL invalid (segment, count,
//                     data/metadata length, type, offset,
//                     granularity)                          InvalidArgument
//   0   0x12          Invalid Use of Controller Memory Buf  FailedPrecondition
//   0   0x13 0x14     PRP Offset Invalid, AWU Exceeded      InvalidArgument
//   0   0x15 0x23     Operation Denied, Prohibited (Lockdown) PermissionDenied
//   0   0x1c          Sanitize Failed                       FailedPrecondition
//   0   0x1d 0x24 0x84  Sanitize / Format In Progress,
//                     Media Not Ready                       Unavailable* / FailedPrecondition
//   0   0x1f          Command Not Supported for Queue in CMB FailedPrecondition
//   0   0x20          Namespace Write Protected             PermissionDenied
//   0   0x21 0x22     Command Interrupted, Transient Transport Error  Unavailable* / Aborted
//   0   0x80          LBA Out of Range                      OutOfRange
//   0   0x81          Capacity Exceeded                     ResourceExhausted
//   0   0x82          Namespace Not Ready                   Unavailable* / FailedPrecondition
//   0   0x83          Reservation Conflict                  PermissionDenied
//   1   0x80 0x81 0x83  Conflicting Attributes, Invalid PI,
//                     Command Size Limit Exceeded           InvalidArgument
//   1   0x82          Attempted Write to Read Only Range    PermissionDenied
//   2   0x80 0x81     Write Fault, Unrecovered Read Error   DataLoss
//   2   0x82-0x84 0x88  End-to-end Guard/App/Ref/Storage Tag Check  DataLoss
//   2   0x85          Compare Failure                       Aborted
//   2   0x86          Access Denied                         PermissionDenied
//   2   0x87          Deallocated or Unwritten Logical Block NotFound
//   2   other         media errors                          DataLoss
//   3   0x00 0x60     Internal / Controller Path Error      Unavailable* / Internal
//   3   0x01          ANA Persistent Loss                   FailedPrecondition
//   3   0x02 0x03 0x70  ANA Inaccessible / Transition,
//                     Host Pathing Error (the kernel: controller not live)
//                                                           Unavailable* / FailedPrecondition
//   3   0x71          Command Aborted By Host (the kernel)  Aborted
//   any other         (vendor specific, zoned, ...)         Unknown
//   0   0x00          Successful Completion (only flag bits set)  OK
//
// * Unavailable only while DNR is clear: the condition is temporary and the
//   same command may succeed later. With DNR set, the second code. For every
//   other row the code does not depend on DNR; the message says "do not
//   retry", and Completion::nvme->dnr tells it too.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "cmb/nvme_status.h"

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

using ::cmb::NvmeStatus;

// The fields of `res`; nullopt when res <= 0 (success, or a negated errno).
std::optional<NvmeStatus> DecodeNvmeStatus(int32_t res);

// The Status for NVMe status `res` (> 0) of a command on `device`: a code per
// the table above, and a message with libnvme's description, SCT and SC,
// "do not retry" when DNR is set, and what it means for the user.
absl::Status NvmeStatusError(int32_t res, std::string_view device);

}  // namespace cmb::internal
#pragma GCC visibility pop
