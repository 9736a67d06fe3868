#include "fix_words.h"

#include "absl/strings/str_cat.h"

namespace cmbtools {
namespace {

// An nvme-cli command on the device, or without one when none is known.
std::string NvmeCli(const char* cmd, const std::string& device) {
  return absl::StrCat("`nvme ", cmd, device.empty() ? "" : " ", device, "`");
}

std::string Inspect(const cmb::Fix& f) {
  using Look = cmb::Fix::Look;
  switch (f.look) {
    case Look::kP2pVerdicts: return "see each pair's P2P verdict and why with `cmbinfo -v`";
    case Look::kCmbRegisters: return "`cmbinfo -v` shows CMBLOC and CMBSZ";
    case Look::kNamespaces: return "run `cmbinfo` to see the namespaces as they are now";
    case Look::kErrorLog: return NvmeCli("error-log", f.device);
    case Look::kHealthLog: return NvmeCli("smart-log", f.device);
    case Look::kKernelLog: return "see `dmesg`";
    case Look::kReservations: return NvmeCli("resv-report", f.device);
    case Look::kSanitizeLog: return NvmeCli("sanitize-log", f.device);
  }
  return "";
}

// A copy request option as cmbcp's flag.
std::string Flag(const cmb::Fix& f) {
  using Option = cmb::Fix::Option;
  const std::string with = f.value.empty() ? "" : absl::StrCat(" with ", f.value);
  switch (f.option) {
    case Option::kAllowBounce: return "pass --allow-bounce to copy through host memory";
    case Option::kForce: return "pass --force, as root (it overrides a safety check; it is not a permission)";
    case Option::kVia: return absl::StrCat("pass --via", with);
    case Option::kChunkBytes: return absl::StrCat("pass --chunk", with);
    case Option::kQd: return absl::StrCat("pass --qd", with);
    case Option::kMethod: return absl::StrCat("pass --method=", f.value.empty() ? "auto" : f.value);
    case Option::kPath: return absl::StrCat("pass --path", with);
  }
  return "";
}

}  // namespace

std::string FixInWords(const cmb::Fix& f) {
  switch (f.kind) {
    case cmb::Fix::Kind::kInspect: return Inspect(f);
    case cmb::Fix::Kind::kKernel:
      return absl::StrCat("boot a kernel with ", f.need,
                          " (Debian: linux-image-amd64 from trixie-backports); see cmb(7), KERNEL REQUIREMENTS");
    case cmb::Fix::Kind::kBootParameter:
      return absl::StrCat("add ", f.module, ".", f.parameter, "=", f.value,
                          " to the kernel command line and reboot (the parameter cannot change at run time)");
    case cmb::Fix::Kind::kModuleParameter:
      return absl::StrCat("load ", f.module, " with ", f.parameter, "=", f.value, " (options ", f.module, " ",
                          f.parameter, "=", f.value, " in /etc/modprobe.d/), or echo ", f.value, " >/sys/module/",
                          f.module, "/parameters/", f.parameter, " and rebind the device to ", f.module,
                          " (the driver reads it when it probes; a controller reset is not enough)");
    case cmb::Fix::Kind::kGrantAccess:
      return absl::StrCat("run as root, or list ", f.device, " in ", f.list, " (cmb-devices(5)) by wwid, serial or PCI ",
                          "address, re-trigger udev (`udevadm trigger`), and join the group (", f.group,
                          "); `udevadm info` on the node says why in CMB_GRANT_WHY; see cmb(7), ACCESS WITHOUT ROOT");
    case cmb::Fix::Kind::kSetOption: return Flag(f);
  }
  return "";
}

std::string WithFixes(std::string text, const std::vector<cmb::Fix>& fixes) {
  for (const cmb::Fix& f : fixes) absl::StrAppend(&text, ". Fix: ", FixInWords(f));
  return text;
}

std::string WithFixes(const absl::Status& s) { return WithFixes(std::string(s.message()), cmb::FixesOf(s)); }

}  // namespace cmbtools
