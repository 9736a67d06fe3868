// Copier::Open(root, sys, src, dsts, ...): names to a plan to a copier, for
// applications that do not need to see the plan before it runs.
#include <numeric>

#include "absl/strings/str_cat.h"
#include "cmb/copier.h"
#include "cmb/namespace_spec.h"
#include "cmb/status_macros.h"

namespace cmb {
namespace {

// The largest range every end holds from LBA 0, in whole LBAs of each.
uint64_t WholeRange(const NamespaceRef& src, const std::vector<NamespaceRef>& dsts) {
  uint64_t bytes = src.ns->capacity_blocks * src.ns->lba_size, unit = src.ns->lba_size;
  for (const NamespaceRef& d : dsts) {
    bytes = std::min(bytes, d.ns->capacity_blocks * d.ns->lba_size);
    unit = std::lcm<uint64_t>(unit, d.ns->lba_size);
  }
  return bytes / unit * unit;
}

}  // namespace

absl::StatusOr<Copier> Copier::Open(const SysRoot& root, const System& sys, absl::string_view src,
                                    const std::vector<std::string>& dsts, CopyRequest tuning,
                                    const CopierOptions& options) {
  CMB_ASSIGN_OR_RETURN(tuning.src, ResolveNamespace(root, sys, src));
  std::vector<NamespaceRef> refs;
  for (const std::string& d : dsts) {
    CMB_ASSIGN_OR_RETURN(NamespaceRef r, ResolveNamespace(root, sys, d));
    refs.push_back(r);
  }
  if (!tuning.count && !tuning.bytes && !refs.empty()) tuning.bytes = WholeRange(tuning.src, refs);
  CMB_ASSIGN_OR_RETURN(CopyPlan plan, PlanFanOut(root, sys, tuning, refs));
  return Open(root, plan, options);
}

}  // namespace cmb
