#include "stripe_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmb/kernel_rules.h"

namespace cmb::internal {
namespace {

struct Member {
  const Controller* c = nullptr;
  std::vector<P2pPath> paths;
};

bool OwnedByAnEnd(const CopyPlan& plan, const Controller& c) {
  std::vector<const CopyEnd*> ends = plan.destinations();
  ends.push_back(&plan.src);
  return std::any_of(ends.begin(), ends.end(),
                     [&](const CopyEnd* e) { return c.address == e->address || c.serial == e->serial; });
}

// Why `c` cannot join, or "" with its paths in `paths`. `strict`: the
// provider's paths were all allowed, so a member's must be too.
std::string Check(const SysRoot& root, const Controller& c, const CopyPlan& plan, bool strict,
                  std::vector<P2pPath>& paths) {
  if (!c.p2pmem->allocate)
    return absl::StrCat("this kernel has no p2pmem/allocate (needs Linux >= ", KernelSince::kP2pmemAllocate.ToString(),
                        ")");
  std::vector<const CopyEnd*> ends{&plan.src};
  for (const CopyEnd* e : plan.destinations()) ends.push_back(e);
  for (const CopyEnd* e : ends) {
    if (!e->dma_client) return absl::StrCat(e->controller, " has no PCI function doing its DMA");
    absl::StatusOr<P2pPath> p = PredictP2pPath(root, *c.address, *e->dma_client);
    if (!p.ok()) return absl::StrCat(e->controller, ": ", p.status().message());
    const bool usable = PathAllowed(p->verdict) || (!strict && p->verdict != PathVerdict::kUnsupported);
    if (!usable) return absl::StrCat("-> ", e->controller, " ", PathVerdictName(p->verdict), ": ", p->reason);
    paths.push_back(*p);
  }
  return "";
}

// Drops members without free memory for their share; a drop makes the
// others' shares larger, so it repeats until every one fits.
void DropShort(CopyPlan& plan, std::vector<Member>& ok) {
  for (bool dropped = true; dropped;) {
    dropped = false;
    for (size_t i = 0; i < ok.size() && !dropped; ++i) {
      const uint64_t need = plan.chunk_bytes * StripeShare(plan.qd, ok.size() + 1, i + 1);
      const uint64_t free = ok[i].c->p2pmem->available_bytes;
      if (free >= need) continue;
      plan.reasons.push_back(absl::StrFormat(
          "stripe: not %s (%s): %u bytes of its CMB are free, its share is %u", ok[i].c->name,
          ok[i].c->address->ToString(), free, need));
      ok.erase(ok.begin() + static_cast<ptrdiff_t>(i));
      dropped = true;
    }
  }
}

}  // namespace

void AddStripe(const SysRoot& root, const System& sys, CopyPlan& plan) {
  if (plan.method != CopyMethod::kP2p || !plan.provider) {
    plan.reasons.push_back(absl::StrCat("stripe: not striped: method ", CopyMethodName(plan.method),
                                        " does not go through a CMB"));
    return;
  }
  const bool strict =
      std::all_of(plan.paths.begin(), plan.paths.end(), [](const P2pPath& p) { return PathAllowed(p.verdict); });
  std::vector<Member> ok;
  for (size_t i : sys.Providers()) {
    const Controller& c = sys.controllers[i];
    if (!c.address || c.address == plan.provider) continue;
    if (OwnedByAnEnd(plan, c)) {
      plan.reasons.push_back(absl::StrFormat("stripe: not %s (%s): only third-party CMBs join a stripe (an end's own "
                                             "CMB may refuse or limit its commands)", c.name, c.address->ToString()));
      continue;
    }
    Member m{&c, {}};
    if (std::string why = Check(root, c, plan, strict, m.paths); !why.empty()) {
      plan.reasons.push_back(absl::StrFormat("stripe: not %s (%s): %s", c.name, c.address->ToString(), why));
      continue;
    }
    ok.push_back(std::move(m));
  }
  // Every CMB of the stripe holds at least one chunk: first those with room
  // for their share, then no more than the depth, naming the ones cut.
  DropShort(plan, ok);
  if (ok.size() + 1 > plan.qd) {
    std::vector<std::string> cut;
    for (size_t i = plan.qd - 1; i < ok.size(); ++i) cut.push_back(ok[i].c->address->ToString());
    plan.reasons.push_back(absl::StrFormat("stripe: %u of %u CMBs (queue depth %u, at least one chunk each); not %s",
                                           plan.qd, ok.size() + 1, plan.qd, absl::StrJoin(cut, ", ")));
    ok.resize(plan.qd - 1);
  }
  if (ok.empty()) {
    plan.reasons.push_back(absl::StrCat("stripe: no other CMB can share the copy; through ",
                                        plan.provider->ToString(), " alone"));
    return;
  }
  std::vector<std::string> names{absl::StrFormat("%s (%u chunks)", plan.provider->ToString(), StripeShare(plan.qd, ok.size() + 1, 0))};
  for (size_t i = 0; i < ok.size(); ++i) {
    plan.stripe.push_back(*ok[i].c->address);
    plan.paths.insert(plan.paths.end(), ok[i].paths.begin(), ok[i].paths.end());
    names.push_back(absl::StrFormat("%s (%s, %u chunks)", ok[i].c->address->ToString(), ok[i].c->name,
                                    StripeShare(plan.qd, ok.size() + 1, i + 1)));
  }
  plan.reasons.push_back(absl::StrFormat("stripe: chunks alternate over %u CMBs: %s", names.size(),
                                         absl::StrJoin(names, ", ")));
}

}  // namespace cmb::internal
