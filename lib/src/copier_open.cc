// Copier::Open(root, sys, src, dsts, ...): names to a plan to a copier, for
// applications that do not need to see the plan before it runs.
#include "absl/strings/str_cat.h"
#include "cmb/planner.h"
#include "cmb/copier.h"
#include "cmb/namespace_spec.h"
#include "cmb/status_macros.h"

namespace cmb {

absl::StatusOr<Copier> Copier::Open(const SysRoot& root, const System& sys, absl::string_view src,
                                    const std::vector<std::string>& dsts, CopyRequest tuning,
                                    const CopierOptions& options) {
  CMB_ASSIGN_OR_RETURN(tuning.src, ResolveNamespace(root, sys, src));
  std::vector<NamespaceRef> refs;
  for (const std::string& d : dsts) {
    CMB_ASSIGN_OR_RETURN(NamespaceRef r, ResolveNamespace(root, sys, d));
    refs.push_back(r);
  }
  if (!tuning.count && !tuning.bytes && !refs.empty()) tuning.bytes = WholeRangeBytes(tuning.src, refs);
  // The plan is sized for a range, but the copier writes only the extents of
  // its requests, which need not start where the range does: a proof of a
  // destination's own CMB reads only, so nothing outside them is written.
  tuning.prove_with_writes = false;
  CMB_ASSIGN_OR_RETURN(CopyPlan plan, PlanFanOut(root, sys, tuning, refs));
  return Open(root, plan, options);
}

}  // namespace cmb
