// Striping (CopyRequest::stripe): once a P2P plan has its provider, chunk and
// depth, the other CMBs the chunks may alternate over. A member passes the
// provider's checks: p2pmem/allocate, a P2P path the kernel allows from it to
// the source and every destination (no worse than the provider's own when
// those were undecidable), and free memory for its share of the qd chunks.
// Only third-party CMBs join: an end's own CMB may refuse or limit commands
// (own_cmb.h), which the chunk size was not planned for.
//
//   CMB_RETURN_IF_ERROR(SizeChunks(req, budget, plan));
//   if (req.stripe) internal::AddStripe(root, sys, plan);   // plan.stripe, plan.paths, plan.reasons
#pragma once

#include "cmb/copy_plan.h"

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

// Sets plan.stripe (the members, in discovery order) and appends each
// member's paths (to src, then to every destination) to plan.paths; every
// CMB left out, and a stripe of one, is explained in plan.reasons.
void AddStripe(const SysRoot& root, const System& sys, CopyPlan& plan);

}  // namespace cmb::internal
#pragma GCC visibility pop
