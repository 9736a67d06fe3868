#include "block_claim.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cmb::internal {
namespace {

// "1234 (mkfs.ext4)" for every process with `rdev` open, as far as /proc
// lets this user see (fuser does the same walk).
std::vector<std::string> Openers(const SysRoot& root, dev_t rdev) {
  std::vector<std::string> out;
  absl::StatusOr<std::vector<std::string>> procs = root.List("/proc");
  if (!procs.ok()) return out;
  for (const std::string& pid : *procs) {
    if (pid.empty() || !absl::ascii_isdigit(pid[0])) continue;
    absl::StatusOr<std::vector<std::string>> fds = root.List("/proc/" + pid + "/fd");
    if (!fds.ok()) continue;
    for (const std::string& fd : *fds) {
      struct stat st {};
      if (::stat(root.Host("/proc/" + pid + "/fd/" + fd).c_str(), &st) != 0) continue;
      if (!S_ISBLK(st.st_mode) || st.st_rdev != rdev) continue;
      absl::StatusOr<std::string> comm = root.ReadAttr("/proc/" + pid + "/comm");
      out.push_back(absl::StrCat(pid, " (", comm.ok() ? *comm : "?", ")"));
      break;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<UniqueFd> ClaimBlockDevice(const Namespace& ns) {
  absl::StatusOr<UniqueFd> fd = ns.root.Open(ns.block_device, O_RDONLY | O_EXCL);
  if (fd.ok()) return fd;
  if (absl::IsPermissionDenied(fd.status()))
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot hold ", ns.block_device, " exclusively: no read permission on it (usually group 'disk')"));
  // EBUSY is the errno of a claimed device (absl maps it to FailedPrecondition).
  if (!absl::IsFailedPrecondition(fd.status())) return fd.status();
  std::vector<std::string> who;
  struct stat st {};
  if (::stat(ns.root.Host(ns.block_device).c_str(), &st) == 0) who = Openers(ns.root, st.st_rdev);
  return absl::FailedPreconditionError(absl::StrCat(
      ns.block_device, " is claimed by another user (a mounted file system, swap, md/dm/LVM, or a program such as "
      "mkfs holding it exclusively)",
      who.empty() ? "" : absl::StrCat("; processes with it open: ", absl::StrJoin(who, ", ")),
      ": it was not written"));
}

}  // namespace cmb::internal
