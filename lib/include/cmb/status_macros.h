// Status macros for code that calls cmb: Debian's Abseil (20220623) ships
// absl::Status but not RETURN_IF_ERROR / ASSIGN_OR_RETURN, so cmb has two
// tiny ones, used by the library and offered to applications (examples/).
//
//   CMB_RETURN_IF_ERROR(file.Close());
//   CMB_ASSIGN_OR_RETURN(std::string text, root.Read("/sys/..."));
//
// Threads: macros only.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CMB_CONCAT_INNER_(a, b) a##b
#define CMB_CONCAT_(a, b) CMB_CONCAT_INNER_(a, b)

#define CMB_RETURN_IF_ERROR(expr)                 \
  do {                                            \
    ::absl::Status cmb_status_ = (expr);          \
    if (!cmb_status_.ok()) return cmb_status_;    \
  } while (0)

#define CMB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(*tmp)

#define CMB_ASSIGN_OR_RETURN(lhs, expr) \
  CMB_ASSIGN_OR_RETURN_IMPL_(CMB_CONCAT_(cmb_statusor_, __LINE__), lhs, expr)
