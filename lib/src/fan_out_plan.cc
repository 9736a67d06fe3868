// PlanFanOut (copy_plan.h): one source range to several destinations. Each
// pair is planned by PlanCopy, so every destination gets the same checks
// (range, identity-based overlap, in use, exclusive hold); then one CMB that
// the source and every destination reach is searched, and the pairs' chunk
// and depth are merged into one plan whose chunks are read once.
#include <unistd.h>

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "cmb/fix.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmb/copy_plan.h"
#include "cmb/planner.h"
#include "cmb/status_macros.h"
#include "stripe_plan.h"

namespace cmb {
namespace {

absl::StatusOr<std::vector<CopyPlan>> PlanEach(const SysRoot& root, const System& sys, CopyRequest req,
                                               const std::vector<NamespaceRef>& dsts) {
  std::vector<CopyPlan> plans;
  for (const NamespaceRef& d : dsts) {
    req.dst = d;
    absl::StatusOr<CopyPlan> p = PlanCopy(root, sys, req);
    if (!p.ok()) return Reworded(p.status(), absl::StrCat(d.ns->name, ": ", p.status().message()));
    plans.push_back(std::move(*p));
  }
  return plans;
}

CopyPlan Merge(std::vector<CopyPlan> plans) {
  CopyPlan out = std::move(plans[0]);
  std::vector<std::string> names{out.dst.ns.name};
  for (size_t i = 1; i < plans.size(); ++i) {
    CopyPlan& p = plans[i];
    out.chunk_bytes = std::min(out.chunk_bytes, p.chunk_bytes);
    out.qd = std::min(out.qd, p.qd);
    if (!out.own_cmb) out.own_cmb = p.own_cmb;
    out.hold_dst = out.hold_dst && p.hold_dst;
    out.paths.insert(out.paths.end(), p.paths.begin() + std::min<size_t>(1, p.paths.size()), p.paths.end());
    out.overridden.insert(out.overridden.end(), p.overridden.begin(), p.overridden.end());
    names.push_back(p.dst.ns.name);
    out.fanout.push_back(std::move(p.dst));
  }
  // A no-op by construction (one LBA size on every destination, so every
  // pair's chunk is a multiple of the same unit), kept as the invariant.
  const uint64_t unit = out.chunk_unit();
  out.chunk_bytes = out.chunk_bytes / unit * unit;
  out.reasons.push_back(absl::StrFormat(
      "fan-out to %u destinations (%s): each chunk is read once and written to every one; chunk %u bytes and "
      "depth %u, the smallest any pair needs", names.size(), absl::StrJoin(names, ", "), out.chunk_bytes, out.qd));
  return out;
}

// The pairs merged, then striped when asked: members must reach every destination.
CopyPlan Merged(const SysRoot& root, const System& sys, const CopyRequest& req, std::vector<CopyPlan> plans) {
  CopyPlan out = Merge(std::move(plans));
  if (req.stripe) internal::AddStripe(root, sys, out);
  return out;
}

absl::Status CheckDistinct(const NamespaceRef& src, const std::vector<NamespaceRef>& dsts) {
  for (size_t i = 0; i < dsts.size(); ++i) {
    if (dsts[i].ns == nullptr) return absl::InvalidArgumentError(absl::StrCat("destination ", i, " is missing"));
    // One byte offset is one LBA number on every destination, so extents mean the same on all.
    if (dsts[i].ns->lba_size != dsts[0].ns->lba_size)
      return absl::InvalidArgumentError(absl::StrCat(
          "a fan-out's destinations must share one LBA size: ", dsts[0].ns->name, " has ", dsts[0].ns->lba_size,
          "-byte LBAs, ", dsts[i].ns->name, " ", dsts[i].ns->lba_size, "-byte ones; copy to them separately"));
    std::string why;
    if (SameNamespace(*src.ns, *dsts[i].ns, &why))
      return absl::InvalidArgumentError(absl::StrCat("a fan-out cannot write its source: ", dsts[i].ns->name, " is ",
                                                     src.ns->name, " (", why, ")"));
    for (size_t j = 0; j < i; ++j)
      if (SameNamespace(*dsts[j].ns, *dsts[i].ns, &why))
        return absl::InvalidArgumentError(absl::StrCat("fan-out to the same namespace twice: ", dsts[j].ns->name,
                                                       " and ", dsts[i].ns->name, " (", why, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

uint64_t WholeRangeBytes(const NamespaceRef& src, const std::vector<NamespaceRef>& dsts) {
  uint64_t bytes = src.ns->capacity_blocks * src.ns->lba_size, unit = src.ns->lba_size;
  for (const NamespaceRef& d : dsts) {
    bytes = std::min(bytes, d.ns->capacity_blocks * d.ns->lba_size);
    unit = std::lcm<uint64_t>(unit, d.ns->lba_size);
  }
  return bytes / unit * unit;
}

absl::StatusOr<CopyPlan> PlanFanOut(const SysRoot& root, const System& sys, const CopyRequest& req,
                                    const std::vector<NamespaceRef>& dsts) {
  if (req.src.ns == nullptr) return absl::InvalidArgumentError("source missing");
  if (dsts.empty()) return absl::InvalidArgumentError("a fan-out needs at least one destination");
  if (dsts.size() == 1) {  // a pair: one namespace at both ends is NVMe Copy or an overlap check
    CopyRequest one = req;
    one.dst = dsts[0];
    return PlanCopy(root, sys, one);
  }
  CMB_RETURN_IF_ERROR(CheckDistinct(req.src, dsts));
  if (req.method == CopyMethod::kNvmeCopy)
    return WithFix(absl::InvalidArgumentError("NVMe Copy has one destination; a fan-out copies through a buffer"),
                   SetOption(Fix::Option::kMethod, "auto"));
  // Every check that does not depend on the CMB first, once per destination.
  CopyRequest bounce = req;
  bounce.method = CopyMethod::kBounce;
  bounce.stripe = false;  // the merged plan is striped once, over every destination
  CMB_ASSIGN_OR_RETURN(std::vector<CopyPlan> host, PlanEach(root, sys, bounce, dsts));
  if (req.method == CopyMethod::kBounce) return Merged(root, sys, req, std::move(host));
  std::vector<std::optional<PciAddress>> order;
  if (req.via) order.push_back(req.via);
  for (size_t i : sys.Providers())
    if (sys.controllers[i].address && !(req.via && *req.via == *sys.controllers[i].address))
      order.push_back(sys.controllers[i].address);
  if (req.via) order.resize(1);
  std::vector<std::string> whys;
  std::vector<Fix> fixes = order.empty() ? sys.kernel.fixes : std::vector<Fix>{};  // each CMB's, carried on
  for (const std::optional<PciAddress>& via : order) {
    CopyRequest p2p = req;
    p2p.method = CopyMethod::kP2p;
    p2p.via = via;
    p2p.stripe = false;
    absl::StatusOr<std::vector<CopyPlan>> plans = PlanEach(root, sys, p2p, dsts);
    if (plans.ok()) return Merged(root, sys, req, std::move(*plans));
    // A CMB the user named fails for any reason; one tried in turn only when it cannot serve.
    const absl::StatusCode code = plans.status().code();
    if (req.via || (code != absl::StatusCode::kFailedPrecondition && code != absl::StatusCode::kResourceExhausted &&
                    code != absl::StatusCode::kInvalidArgument))
      return plans.status();
    whys.push_back(absl::StrCat("via ", via->ToString(), ": ", plans.status().message()));
    for (const Fix& f : FixesOf(plans.status()))  // every CMB is tried: "another CMB" is no fix here
      if (f != SetOption(Fix::Option::kVia, "another CMB") && std::find(fixes.begin(), fixes.end(), f) == fixes.end()) fixes.push_back(f);
  }
  std::string why = order.empty() ? absl::StrCat("no CMB is published as P2P memory on this machine (kernel P2PDMA "
                                                 "support: ", SupportName(sys.kernel.p2pdma), ")")
                                  : absl::StrCat("no CMB reaches the source and every destination: ",
                                                 absl::StrJoin(whys, " | "));
  if (req.method == CopyMethod::kAuto && req.allow_bounce && !req.via) {
    CopyPlan out = Merged(root, sys, req, std::move(host));
    out.reasons.insert(out.reasons.begin() + 1, absl::StrCat("BOUNCE through host memory, not peer-to-peer: ", why));
    return out;
  }
  absl::Status refused = absl::FailedPreconditionError(why);
  for (const Fix& f : fixes) AddFix(refused, f);
  if (req.method != CopyMethod::kP2p && !req.via) AddFix(refused, SetOption(Fix::Option::kAllowBounce));
  return refused;
}

}  // namespace cmb
