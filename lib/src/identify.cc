#include "cmb/identify.h"

#include <fcntl.h>
#include <unistd.h>
extern "C" {  // libnvme 1.3 headers lack C++ guards
#include <nvme/ioctl.h>
#include <nvme/types.h>
#include <nvme/util.h>
}

#include <algorithm>
#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cmb/status_macros.h"

namespace cmb {
namespace {

absl::Status CommandStatus(int rc, const Namespace& ns, const char* what) {
  if (rc == 0) return absl::OkStatus();
  if (rc < 0) return absl::ErrnoToStatus(errno, absl::StrCat(what, " on ", ns.generic_device));
  return absl::InternalError(
      absl::StrCat(what, " on ", ns.generic_device, ": ", nvme_status_to_string(rc, false)));
}

}  // namespace

uint32_t IdentifyInfo::max_copy_lbas() const {
  if (!copy_supported) return 0;
  return std::min(mssrl, mcl);
}

absl::StatusOr<IdentifyInfo> Identify(const Namespace& ns) {
  if (ns.generic_device.empty())
    return absl::FailedPreconditionError(absl::StrCat(ns.name, " has no generic char device"));
  CMB_ASSIGN_OR_RETURN(UniqueFd file, ns.root.Open(ns.generic_device, O_RDONLY));
  int fd = file.get();
  auto ctrl = std::make_unique<nvme_id_ctrl>();
  auto idns = std::make_unique<nvme_id_ns>();
  absl::Status s = CommandStatus(nvme_identify_ctrl(fd, ctrl.get()), ns, "Identify Controller");
  if (s.ok()) s = CommandStatus(nvme_identify_ns(fd, ns.nsid, idns.get()), ns, "Identify Namespace");
  if (!s.ok()) return s;
  IdentifyInfo info;
  info.oncs = le16toh(ctrl->oncs);
  info.copy_supported = info.oncs & NVME_CTRL_ONCS_COPY;
  info.mssrl = le16toh(idns->mssrl);
  info.mcl = le32toh(idns->mcl);
  info.msrc = idns->msrc;
  return info;
}

}  // namespace cmb
