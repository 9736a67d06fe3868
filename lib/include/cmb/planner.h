// The planner: turns "copy these LBAs of SRC to DST" into a checked plan:
// which method (P2P through a CMB, NVMe Copy inside one namespace, or a bounce
// through host memory), which CMB, chunk size and queue depth, and why. Every
// refusal happens here, before any I/O: ranges beyond the end, byte ranges
// not aligned to both LBA sizes, overlapping ranges in one namespace, a
// mounted or held destination, no P2P path the kernel would allow.
//
//   cmb::CopyRequest req{.src = *src, .dst = *dst, .count = 2048};
//   absl::StatusOr<cmb::CopyPlan> plan = cmb::PlanCopy(root, sys, req);
//   if (!plan.ok()) ...                         // the message names cause and fix
//   for (const std::string& why : plan->reasons) std::cerr << why << "\n";
//
// Messages say the cause in plain words. The options that would avoid a
// refusal ride in the Status as cmb::Fix data (fix.h, Kind::kSetOption):
// allow bounce, force, another CMB, a chunk size or depth that fits; each
// caller words them (cmbcp as --allow-bounce, the C API as opts->allow_bounce).
//
// Status codes: InvalidArgument (the request itself is malformed), NotFound
// (a named provider does not exist), OutOfRange (beyond a namespace's end),
// FailedPrecondition (refused for safety or because the kernel would refuse),
// ResourceExhausted (the CMB has too little free memory).
//
// Threads: PlanCopy and PlanFanOut only read the System and sysfs (an own-CMB proof
// runs one command). The plan's type is copy_plan.h.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "cmb/copy_plan.h"
#include "cmb/discovery.h"
#include "cmb/namespace_spec.h"
#include "cmb/sysroot.h"

namespace cmb {

absl::StatusOr<CopyPlan> PlanCopy(const SysRoot& root, const System& sys, const CopyRequest& req);

// The most bytes every end holds from LBA 0, in whole LBAs of each: the range
// to plan a copier for when its requests are not known yet (when they are,
// plan for them: CopyRequest::extents).
uint64_t WholeRangeBytes(const NamespaceRef& src, const std::vector<NamespaceRef>& dsts);


// Plans a fan-out: the source range of `req` to every namespace in `dsts`,
// each at req.dst_lba (req.dst is not used). Every destination gets the
// checks of PlanCopy; the plan uses one CMB that the source and all of them
// reach (req.via, else the first that works), or host memory when
// `allow_bounce`, and the smallest chunk and depth any pair needs; with
// `stripe`, further CMBs that reach the source and all of them. dsts[0]
// becomes plan.dst, the others plan.fanout. InvalidArgument: no
// destination, one namespace twice (by identity) or the source among them,
// `method` nvme-copy. FailedPrecondition: no CMB reaches them all (each
// CMB's reason is given).
//
//   absl::StatusOr<cmb::CopyPlan> plan = cmb::PlanFanOut(root, sys, req, {*d1, *d2, *d3});
absl::StatusOr<CopyPlan> PlanFanOut(const SysRoot& root, const System& sys, const CopyRequest& req,
                                    const std::vector<NamespaceRef>& dsts);

}  // namespace cmb
