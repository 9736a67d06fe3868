#include "privilege.h"

#include <sys/capability.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>

namespace cmb::internal {
namespace {

// Capabilities count only in the initial user namespace, whose uid_map maps
// every uid to itself: in one made by `unshare -r` any user holds
// CAP_SYS_ADMIN, and still has its supplementary groups to open devices with.
bool InInitialUserNamespace() {
  // A kernel without CONFIG_USER_NS (the LTS test kernel) has no uid_map:
  // there is only the initial namespace.
  struct stat st {};
  if (::stat("/proc/self/uid_map", &st) != 0) return errno == ENOENT;
  std::ifstream map("/proc/self/uid_map");
  unsigned long long inside = 1, outside = 1, count = 0;
  if (!(map >> inside >> outside >> count)) return false;  // cannot tell: not privileged
  return inside == 0 && outside == 0 && count == 4294967295ull;
}

}  // namespace

bool HasCapSysAdmin() {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return false;  // cannot tell: not privileged
  cap_flag_value_t v = CAP_CLEAR;
  bool ok = cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
  cap_free(caps);
  return ok && InInitialUserNamespace();
}

}  // namespace cmb::internal
