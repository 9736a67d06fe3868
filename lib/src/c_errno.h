// The C API's errno for each absl::StatusCode: the table cmb.h documents.
// Header-only so that the unit test checks the very table c_api.cc uses.
#pragma once

#include <cerrno>

#include "absl/status/status.h"

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

// A handle that is NULL, freed or closed, or not a handle of its type. No
// status maps to it, so it always means a bad handle (never a kernel EBADF:
// that arrives as FailedPrecondition).
inline constexpr int kBadHandleErrno = EBADF;

// 0, or the negative errno a C function returns for a status of `code`.
// EPERM is not used: absl files the kernel's EPERM under PermissionDenied
// (EACCES here), and FailedPrecondition is the library's "this system cannot
// do it as it is" (no P2P path, a kernel or device feature missing, a
// destination in use), which is EOPNOTSUPP, as for Unimplemented.
constexpr int NegErrnoOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kInvalidArgument: return -EINVAL;
    case absl::StatusCode::kNotFound: return -ENOENT;
    case absl::StatusCode::kOutOfRange: return -ERANGE;
    case absl::StatusCode::kFailedPrecondition: return -EOPNOTSUPP;
    case absl::StatusCode::kPermissionDenied: return -EACCES;
    case absl::StatusCode::kResourceExhausted: return -ENOSPC;
    case absl::StatusCode::kCancelled: return -ECANCELED;
    case absl::StatusCode::kDeadlineExceeded: return -ETIMEDOUT;
    case absl::StatusCode::kUnimplemented: return -EOPNOTSUPP;
    case absl::StatusCode::kAlreadyExists: return -EEXIST;
    case absl::StatusCode::kUnavailable: return -EAGAIN;
    default: return -EIO;  // Aborted, DataLoss, Internal, Unknown: the message has the NVMe status or cause
  }
}

}  // namespace cmb::internal
#pragma GCC visibility pop
