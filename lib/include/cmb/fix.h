// Fix: what would make a failed call succeed, as data rather than words.
// The library's messages say the cause in plain terms; a fix rides along in
// the absl::Status as a payload, and each caller renders it in its own words:
// cmbcp and cmbinfo as commands and flags, the C API by its struct fields,
// the docs by man section. So no tool name or shell recipe is in lib/.
//
//   absl::Status s = absl::FailedPreconditionError("nvme2n1 has no poll queues");
//   cmb::AddFix(s, {.kind = cmb::Fix::Kind::kModuleParameter, .module = "nvme", .parameter = "poll_queues",
//                   .value = "2"});
//   cmb::AddFix(s, cmb::SetOption(cmb::Fix::Option::kAllowBounce));  // "or copy through host memory"
//   for (const cmb::Fix& f : cmb::FixesOf(s)) ...   // in the order added
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cmb {

struct Fix {
  enum class Kind {
    kInspect,          // look at `look` (of `device`, when it names one)
    kKernel,           // a kernel with `need` (Linux >= ... with CONFIG_...)
    kModuleParameter,  // load `module` with `parameter`=`value`, then rebind the device to it
    kBootParameter,    // `module`.`parameter`=`value` on the kernel command line, and a reboot (read-only at run time)
    kGrantAccess,      // root, or the access list naming `device` for `group` (cmb-devices(5))
    kSetOption,        // set the copy request's `option` (to `value`, when the fix names one)
  };
  // A CopyRequest option (copy_plan.h), for kSetOption. Each caller names it
  // its own way: cmbcp by its flag, the C API by its struct field.
  enum class Option {
    kAllowBounce,  // copy through host memory when no P2P path exists
    kForce,        // write to a destination in use (root only)
    kVia,          // the CMB to copy through
    kChunkBytes,   // the command size
    kQd,           // the queue depth
    kMethod,       // how to copy: P2P, bounce, NVMe Copy
    kPath,         // the data path of every end: passthrough or the block device (data_path.h)
  };
  // What to look at, for kInspect.
  enum class Look {
    kP2pVerdicts,    // the P2P verdict of each provider and client pair
    kCmbRegisters,   // a controller's CMBLOC and CMBSZ
    kNamespaces,     // the namespaces as discovery sees them now
    kErrorLog,       // the controller's Error Information log
    kHealthLog,      // the SMART / Health Information log
    kKernelLog,      // the kernel's messages
    kReservations,   // the namespace's reservation status
    kSanitizeLog,    // the Sanitize Status log
  };
  Kind kind = Kind::kInspect;
  Look look = Look::kKernelLog;
  Option option = Option::kAllowBounce;
  std::string device{};   // kInspect, kGrantAccess: "/dev/ng1n1", "0000:03:00.0", "nvme1"
  std::string need{};     // kKernel: "Linux >= 6.2 with CONFIG_PCI_P2PDMA"
  std::string module{}, parameter{}, value{};  // kModuleParameter, kBootParameter; value also kSetOption ("at most 4096")
  std::string group{}, list{};                 // kGrantAccess: "cmb", "/etc/cmb/devices"
  bool operator==(const Fix&) const = default;
};

// What a kInspect fix looks at, in words: "the controller's error log".
const char* LookName(Fix::Look look);
// A kSetOption fix: set `option`, to `value` if it is not empty.
Fix SetOption(Fix::Option option, std::string value = "");

// Adds `fix` to a non-OK status (an OK one stays as it is).
void AddFix(absl::Status& s, const Fix& fix);
absl::Status WithFix(absl::Status s, const Fix& fix);
// The fixes `s` carries, in the order added.
std::vector<Fix> FixesOf(const absl::Status& s);

// A status with `s`'s code and payloads (its fixes) and a new message: for
// adding context ("writing nvme2n1 LBAs 0..7: " + s.message()) without losing them.
absl::Status Reworded(const absl::Status& s, absl::string_view message);

}  // namespace cmb
