#include "page_cache.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace cmb::internal {

PageCache OpenPageCache(const Namespace& ns, const UniqueFd& hold) {
  PageCache pc;
  pc.device = ns.block_device;
  if (hold.valid()) {
    pc.fd = hold.get();
    return pc;
  }
  absl::StatusOr<UniqueFd> fd = ns.root.Open(ns.block_device, O_RDONLY | O_CLOEXEC);
  if (!fd.ok()) {
    pc.why_not = std::string(fd.status().message());
    return pc;
  }
  pc.own = std::move(*fd);
  pc.fd = pc.own.get();
  return pc;
}

absl::Status SyncPageCache(const PageCache& pc) {
  if (pc.fd < 0 || ::fsync(pc.fd) == 0) return absl::OkStatus();
  const int err = errno;  // before StrCat can allocate
  return absl::ErrnoToStatus(err, absl::StrCat("writing back the page cache of ", pc.device,
                                                 " before the copy (fsync)"));
}

absl::Status DropPageCache(const PageCache& pc) {
  if (!pc.why_not.empty()) return absl::FailedPreconditionError(pc.why_not);
  if (pc.fd < 0) return absl::OkStatus();  // never opened: the copy's setup failed first
  // The whole device, not just the range: fadvise drops only folios wholly
  // inside the range it is given, and the block device's page cache uses
  // large folios (on 7.3.4 a range's edges stayed stale even widened to
  // pages). Clean pages outside it are merely read again.
  int rc = ::posix_fadvise(pc.fd, 0, 0, POSIX_FADV_DONTNEED);
  if (rc == 0) return absl::OkStatus();
  // Kernels without CONFIG_ADVISE_SYSCALLS (tinyconfig-based ones): BLKFLSBUF
  // drops the device's whole cache, for CAP_SYS_ADMIN only.
  if (rc == ENOSYS && ::ioctl(pc.fd, BLKFLSBUF, 0) == 0) return absl::OkStatus();
  const int err = rc == ENOSYS ? errno : rc;
  return absl::ErrnoToStatus(err,
                             absl::StrCat("dropping the page cache of ", pc.device,
                                          rc == ENOSYS ? " (no posix_fadvise in this kernel; BLKFLSBUF)"
                                                       : " (posix_fadvise)"));
}

}  // namespace cmb::internal
