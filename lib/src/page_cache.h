// The destination's page cache around a copy. Writes through /dev/ngXnY
// (passthrough) bypass the block device's page cache, so:
//  - before: dirty pages of earlier buffered writes to /dev/nvmeXnY could be
//    written back later, over the copy: SyncPageCache() writes them first;
//  - after: clean pages still hold the old data, and `cmp /dev/nvme1n1
//    /dev/nvme2n1` would report a mismatch that is not on the device:
//    DropPageCache() drops the device's clean cached pages (posix_fadvise
//    POSIX_FADV_DONTNEED over the whole device, or BLKFLSBUF).
//
//   PageCache pc = OpenPageCache(plan.dst.ns, hold);   // hold: the O_EXCL claim, if any
//   CMB_RETURN_IF_ERROR(SyncPageCache(pc));
//   ... copy ...
//   DropPageCache(pc);
//
// Both need an fd on the block device (read access is enough); without one,
// `why_not` says so, SyncPageCache does nothing and DropPageCache returns it.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "cmb/discovery.h"
#include "cmb/unique_fd.h"

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

struct PageCache {
  std::string device;   // "/dev/nvme2n1"
  UniqueFd own;         // opened here when there is no hold
  int fd = -1;          // the hold's or own's
  std::string why_not;  // why there is no fd; empty when there is one
};

PageCache OpenPageCache(const Namespace& ns, const UniqueFd& hold);
absl::Status SyncPageCache(const PageCache& pc);
absl::Status DropPageCache(const PageCache& pc);

}  // namespace cmb::internal
#pragma GCC visibility pop
