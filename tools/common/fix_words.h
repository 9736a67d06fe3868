// A library Status in the tools' words: its message, then each fix it
// carries (cmb/fix.h) as the command or setting a user of cmbcp and cmbinfo
// would type. The library says "the controller's error log has more"; the
// tools add "Fix: nvme error-log /dev/ng1n1".
//
//   std::cerr << "cmbcp: failed: " << cmbtools::WithFixes(status) << "\n";
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cmb/fix.h"

namespace cmbtools {

std::string FixInWords(const cmb::Fix& fix);
// The message, then " Fix: ..." for every fix, in order.
std::string WithFixes(const absl::Status& s);
// Any text the library gives with its fixes (KernelSupport::evidence and ::fixes).
std::string WithFixes(std::string text, const std::vector<cmb::Fix>& fixes);

}  // namespace cmbtools
