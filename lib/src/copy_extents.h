// CheckCopyExtents: a copier request's extents against its plan's ends,
// before anything is queued. Whole LBAs of every end (InvalidArgument),
// inside every namespace (OutOfRange), no two overlapping on the
// destination, and no source range overlapping a destination range when
// both are one namespace (FailedPrecondition, as PlanCopy's overlap).
//
//   absl::StatusOr<uint64_t> bytes = CheckCopyExtents(plan.src, plan.destinations(), plan.lba_unit(), extents);
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/copy_plan.h"
#include "cmb/extent_list.h"

#pragma GCC visibility push(hidden)
namespace cmb::internal {

// The request's bytes. `dsts` share one LBA size; `unit` is the copy unit
// (CopyPlan::lba_unit).
absl::StatusOr<uint64_t> CheckCopyExtents(const CopyEnd& src, const std::vector<const CopyEnd*>& dsts, uint64_t unit,
                                          const std::vector<Extent>& extents);

}  // namespace cmb::internal
#pragma GCC visibility pop
