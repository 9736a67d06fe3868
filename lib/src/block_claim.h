// ClaimBlockDevice: a namespace's block device opened with O_EXCL for as
// long as the returned fd lives, as mkfs and mdadm do. While it is held the
// kernel refuses every other exclusive opener (mount, swapon, md, dm, LVM,
// mkfs) with EBUSY, and a current claimant makes the claim itself fail, so a
// copy cannot write under a file system that appears mid-copy.
//
//   absl::StatusOr<cmb::UniqueFd> hold = cmb::ClaimBlockDevice(plan.dst.ns);
//   if (!hold.ok()) return hold.status();  // names the claimants it can see
//   ... write through /dev/ngXnY; the claim ends when `hold` is destroyed.
//
// Errors: FailedPrecondition (another claimant: mounted, swap, md/dm, or a
// process, named where /proc shows it), PermissionDenied (no read access to
// the block device: the hold needs it even when I/O goes through ngXnY).
#pragma once

#include "absl/status/statusor.h"
#include "cmb/discovery.h"
#include "cmb/unique_fd.h"

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

absl::StatusOr<UniqueFd> ClaimBlockDevice(const Namespace& ns);

}  // namespace cmb::internal
#pragma GCC visibility pop
