// Whether this process may override a safety check. `force` on an in-use
// destination needs CAP_SYS_ADMIN in the effective set (the capability the
// kernel itself asks for before it lets passthrough send any command) in the
// initial user namespace (not one of `unshare -r`), so a member of the access
// group cannot use it to write under a file system.
//
//   if (req.force && !cmb::internal::HasCapSysAdmin()) return PermissionDenied(...);
#pragma once

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

bool HasCapSysAdmin();

}  // namespace cmb::internal
#pragma GCC visibility pop
