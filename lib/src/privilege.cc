#include "privilege.h"

#include <sys/capability.h>

namespace cmb::internal {

bool HasCapSysAdmin() {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return false;  // cannot tell: not privileged
  cap_flag_value_t v = CAP_CLEAR;
  bool ok = cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
  cap_free(caps);
  return ok;
}

}  // namespace cmb::internal
