#include "cmb/fix.h"
#include "cmb/copy_plan.h"
#include "cmb/planner.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmb/fabric_path.h"
#include "cmb/identify.h"
#include "cmb/page.h"
#include "cmb/status_macros.h"
#include "privilege.h"
#include "stripe_plan.h"

namespace cmb {
namespace {

constexpr uint64_t kDefaultMaxChunk = 1 << 20;
constexpr unsigned kDefaultQd = 16;
constexpr unsigned kMaxQd = 1024;

CopyEnd End(const NamespaceRef& r, uint64_t lba) {
  return CopyEnd{*r.ns, r.controller->name, r.controller->serial, r.controller->address, lba,
                 DataPath::kPassthrough, r.controller->address};
}

std::string Range(const CopyEnd& e, uint64_t lbas) {
  return absl::StrFormat("%s LBAs %u..%u", e.ns.name, e.lba, e.lba + lbas - 1);
}

// A destination that a file system, swap or md/dm uses is refused, and so is
// one whose use cannot be read; `force` overrides both, and the plan records
// what it overrode. Without `force` the copy also holds the destination
// exclusively (copy_engine.h), so nothing can claim it while it is written.
// `force` is a safety override, not a permission: without CAP_SYS_ADMIN it
// overrides nothing, so a member of the access group cannot write under a
// file system of a namespace it was granted before it was mounted.
absl::Status CheckInUse(const CopyRequest& req, CopyPlan& plan) {
  const Namespace& d = plan.dst.ns;
  if (req.read_only) {  // nothing will be written: use does not matter
    plan.read_only = true;
    plan.hold_dst = false;
    return absl::OkStatus();
  }
  const bool force = req.force && internal::HasCapSysAdmin();
  plan.hold_dst = !force;
  const std::vector<std::string> uses = d.uses();
  std::vector<std::string> what;
  if (!uses.empty())
    what.push_back(absl::StrCat("destination ", d.block_device, " is in use (", absl::StrJoin(uses, ", "), ")"));
  if (!d.use_unknown.empty())
    what.push_back(absl::StrCat("cannot tell whether destination ", d.block_device, " is in use: ", d.use_unknown));
  if (!what.empty() && req.force && !force)
    return absl::PermissionDeniedError(absl::StrCat(
        absl::StrJoin(what, "; "), ": overriding that safety check needs CAP_SYS_ADMIN, which this process lacks "
        "(the override is for root; it is not a permission). It was not written"));
  if (!uses.empty() && !force)
    return WithFix(absl::FailedPreconditionError(absl::StrCat(
                       what.front(), ": writing under a file system, swap or device mapper corrupts it. Unmount it "
                       "(swapoff, or stop the md/dm device), or override the check as root")),
                   SetOption(Fix::Option::kForce));
  if (!d.use_unknown.empty() && !force)
    return WithFix(absl::FailedPreconditionError(absl::StrCat(what.back(), ". Fix that, or override the check as root")),
                   SetOption(Fix::Option::kForce));
  plan.overridden = what;
  if (force) plan.overridden.push_back(absl::StrCat("not holding ", d.block_device, " exclusively"));
  return absl::OkStatus();
}

// A range's bytes (`count` or `bytes`); the LBAs it spans on each end.
absl::StatusOr<std::array<uint64_t, 2>> SizeRange(const CopyRequest& req, CopyPlan& plan) {
  const Namespace& s = plan.src.ns;
  if (req.count.has_value() == req.bytes.has_value())
    return absl::InvalidArgumentError("give exactly one of a count of source LBAs, a byte count and an extent list");
  if (req.count) {
    if (*req.count == 0) return absl::InvalidArgumentError("the LBA count is 0: nothing to copy");
    if (*req.count > UINT64_MAX / s.lba_size) return absl::InvalidArgumentError("the LBA count is too large");
    plan.bytes = *req.count * s.lba_size;
  } else {
    if (*req.bytes == 0) return absl::InvalidArgumentError("the byte count is 0: nothing to copy");
    plan.bytes = *req.bytes;
  }
  return std::array<uint64_t, 2>{plan.src_lbas(), plan.dst_lbas()};
}

// An extent list's bytes (their sum), each extent whole LBAs of both ends;
// plan.src.lba and dst.lba become the lowest LBAs it touches, and the LBAs
// from there to the highest it touches are its span on each end.
absl::StatusOr<std::array<uint64_t, 2>> SizeExtents(const CopyRequest& req, CopyPlan& plan) {
  if (req.count || req.bytes || req.src_lba || req.dst_lba)
    return absl::InvalidArgumentError(
        "an extent list carries its own LBAs and bytes: leave the start LBAs, LBA count and byte count unset");
  const uint64_t s = plan.src.ns.lba_size, d = plan.dst.ns.lba_size, unit = plan.lba_unit();
  uint64_t lo[2] = {UINT64_MAX, UINT64_MAX}, hi[2] = {0, 0}, bytes = 0;
  for (size_t i = 0; i < req.extents.size(); ++i) {
    const Extent& x = req.extents[i];
    if (x.count == 0) return absl::InvalidArgumentError(absl::StrFormat("extent %u has no LBAs", i));
    if (x.count > UINT64_MAX / s || x.src_lba > UINT64_MAX - x.count || x.dst_lba > UINT64_MAX - x.count * s / d)
      return absl::InvalidArgumentError(absl::StrFormat("extent %u: its LBAs run past 2^64", i));
    const uint64_t b = x.count * s;
    if (b % unit != 0)
      return absl::InvalidArgumentError(absl::StrFormat(
          "extent %u: %u bytes are not whole LBAs of every end (multiples of %u bytes)", i, b, unit));
    if (bytes > UINT64_MAX - b) return absl::InvalidArgumentError("the extents add up to more than 2^64 bytes");
    bytes += b;
    lo[0] = std::min(lo[0], x.src_lba), hi[0] = std::max(hi[0], x.src_lba + x.count);
    lo[1] = std::min(lo[1], x.dst_lba), hi[1] = std::max(hi[1], x.dst_lba + b / d);
  }
  plan.bytes = bytes;
  plan.src.lba = lo[0];
  plan.dst.lba = lo[1];
  return std::array<uint64_t, 2>{hi[0] - lo[0], hi[1] - lo[1]};
}

// Bytes and range checks that hold for every method. An extent list's
// overlaps are the copier's to check (Copier::Submit), extent by extent.
absl::Status CheckRanges(const CopyRequest& req, CopyPlan& plan) {
  const Namespace &s = plan.src.ns, &d = plan.dst.ns;
  const bool list = !req.extents.empty();
  CMB_ASSIGN_OR_RETURN(const auto span, list ? SizeExtents(req, plan) : SizeRange(req, plan));
  uint64_t unit = plan.lba_unit();
  if (plan.bytes % unit != 0)
    return absl::InvalidArgumentError(absl::StrFormat(
        "%u bytes is not a whole number of LBAs on both sides (%s has %u-byte LBAs, %s has %u-byte LBAs): "
        "use a multiple of %u bytes",
        plan.bytes, s.name, s.lba_size, d.name, d.lba_size, unit));
  for (int i : {0, 1}) {
    const CopyEnd* e = i == 0 ? &plan.src : &plan.dst;
    if (e->lba >= e->ns.capacity_blocks || e->ns.capacity_blocks - e->lba < span[i])
      return absl::OutOfRangeError(absl::StrFormat("%s%s is beyond the end of %s (%u LBAs of %u bytes)",
                                                   list ? "the extents' span " : "", Range(*e, span[i]), e->ns.name,
                                                   e->ns.capacity_blocks, e->ns.lba_size));
  }
  // One namespace seen through two controllers (shared, multipath) is one
  // namespace: overlap is judged by identity, not by name.
  if (std::string same; !list && SameNamespace(s, d, &same)) {
    uint64_t n = plan.src_lbas();
    if (plan.src.lba < plan.dst.lba + n && plan.dst.lba < plan.src.lba + n)
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s and %s overlap in the same namespace%s: the copy would read data it already overwrote",
          Range(plan.src, n), Range(plan.dst, n),
          s.block_device == d.block_device ? "" : absl::StrFormat(" (%s and %s are one namespace: same %s)",
                                                                    s.name, d.name, same)));
  }
  return CheckInUse(req, plan);
}

// The commands a copy of `plan` makes in `chunk`-byte pieces: an extent
// list's are cut extent by extent (counted up to kMaxQd, all a depth needs).
uint64_t Commands(const CopyRequest& req, const CopyPlan& plan, uint64_t chunk) {
  if (req.extents.empty()) return (plan.bytes + chunk - 1) / chunk;
  uint64_t n = 0;
  for (size_t i = 0; i < req.extents.size() && n <= kMaxQd; ++i)
    n += (req.extents[i].count * plan.src.ns.lba_size + chunk - 1) / chunk;
  return n;
}

// The largest command a copy of `plan` can make: its bytes, or an extent
// list's largest extent (which fits from the list's lowest LBA on each end).
uint64_t LargestCommand(const CopyRequest& req, const CopyPlan& plan) {
  uint64_t most = req.extents.empty() ? plan.bytes : 0;
  for (const Extent& x : req.extents) most = std::max(most, x.count * plan.src.ns.lba_size);
  return most;
}

// `s`, with copying through host memory as a fix unless the request asked
// for P2P only or named its CMB (bouncing needs neither).
absl::Status OrBounce(const CopyRequest& req, absl::Status s) {
  if (req.method != CopyMethod::kP2p && !req.via) AddFix(s, SetOption(Fix::Option::kAllowBounce));
  return s;
}

// A CMB with too little free memory for one `chunk`: who holds it, and the
// options that avoid it.
absl::Status CmbFull(const CopyRequest& req, const CopyPlan& plan, uint64_t budget, uint64_t chunk) {
  absl::Status s = absl::ResourceExhaustedError(absl::StrFormat(
      "the CMB of %s has %u bytes free, less than one %u-byte chunk: other processes hold it (processes whose "
      "memory maps show its p2pmem/allocate)",
      plan.provider ? plan.provider->ToString() : "the provider", budget, chunk));
  const uint64_t unit = plan.chunk_unit();
  if (budget >= unit) AddFix(s, SetOption(Fix::Option::kChunkBytes, absl::StrCat(budget / unit * unit, " or less")));
  AddFix(s, SetOption(Fix::Option::kVia, "another CMB"));
  return OrBounce(req, s);
}

// Chunk and depth for a data-moving method: a chunk is page aligned, a whole
// number of LBAs on both sides, at most both devices' max transfer (larger
// commands would be split or bounced by the kernel) and fits in `budget`.
absl::Status SizeChunks(const CopyRequest& req, uint64_t budget, CopyPlan& plan) {
  const Namespace &s = plan.src.ns, &d = plan.dst.ns;
  const uint64_t unit = plan.chunk_unit();
  uint64_t limit = std::min(s.max_transfer_bytes, d.max_transfer_bytes);
  limit = std::min<uint64_t>(limit, 65536ull * std::min(s.lba_size, d.lba_size)) / unit * unit;
  uint64_t own = plan.own_cmb ? plan.own_cmb->command_bytes_limit : 0;
  if (own != 0 && own < limit) limit = own / unit * unit;
  if (own != 0 && req.chunk_bytes > limit)
    return WithFix(absl::InvalidArgumentError(absl::StrFormat(
                       "%u-byte chunks: %s accepts at most %u-byte commands into its own CMB on this kernel (%s)",
                       req.chunk_bytes, plan.own_cmb->owner, limit, plan.own_cmb->predicted.reason)),
                   SetOption(Fix::Option::kChunkBytes, absl::StrCat(limit, " or less")));
  if (limit == 0)
    return absl::FailedPreconditionError(absl::StrFormat(
        "max transfer (%s %u bytes, %s %u bytes) is below one %u-byte chunk", s.name, s.max_transfer_bytes, d.name,
        d.max_transfer_bytes, unit));
  uint64_t chunk = req.chunk_bytes;
  if (chunk != 0) {
    if (chunk % unit != 0)
      return WithFix(absl::InvalidArgumentError(absl::StrFormat(
                         "%u-byte chunks: not a multiple of %u (page size and both LBA sizes)", chunk, unit)),
                     SetOption(Fix::Option::kChunkBytes, absl::StrCat("a multiple of ", unit)));
    if (chunk > limit)
      return WithFix(absl::InvalidArgumentError(absl::StrFormat(
                         "%u-byte chunks exceed the max transfer both devices accept (%u bytes: %s %u, %s %u)", chunk,
                         limit, s.name, s.max_transfer_bytes, d.name, d.max_transfer_bytes)),
                     SetOption(Fix::Option::kChunkBytes, absl::StrCat(limit, " or less")));
  } else {
    chunk = std::min(limit, kDefaultMaxChunk / unit * unit);
    if (chunk == 0) chunk = unit;
    if (own != 0 && chunk == limit)
      plan.reasons.push_back(absl::StrFormat("chunk %u bytes: the largest command %s takes into its own CMB", chunk,
                                             plan.own_cmb->owner));
    else
      plan.reasons.push_back(absl::StrFormat("chunk %u bytes: min(max transfer %s %u, %s %u, 1 MiB)", chunk, s.name,
                                             s.max_transfer_bytes, d.name, d.max_transfer_bytes));
  }
  unsigned qd = req.qd ? req.qd : kDefaultQd;  // checked against kMaxQd by PlanCopy
  if (budget < chunk) {
    if (req.chunk_bytes != 0 || budget < unit) return CmbFull(req, plan, budget, req.chunk_bytes ? chunk : unit);
    chunk = budget / unit * unit;
    plan.reasons.push_back(absl::StrFormat("chunk shrunk to %u bytes: only %u bytes of the CMB are free", chunk, budget));
  }
  if (uint64_t fit = budget / chunk; fit < qd) {
    plan.reasons.push_back(absl::StrFormat("queue depth %u -> %u: %u bytes of the CMB are free", qd, fit, budget));
    qd = static_cast<unsigned>(fit);
  }
  if (uint64_t chunks = Commands(req, plan, chunk); chunks < qd) qd = static_cast<unsigned>(chunks);
  plan.chunk_bytes = chunk;
  plan.qd = qd;
  return absl::OkStatus();
}

struct Candidate {
  const Controller* c = nullptr;
  std::vector<P2pPath> paths;
  bool ok = false, maybe = false;
  std::string why;
};

Candidate Judge(const SysRoot& root, const Controller& c, const CopyPlan& plan) {
  Candidate k;
  k.c = &c;
  std::vector<std::string> why;
  for (const CopyEnd* e : {&plan.src, &plan.dst}) {
    absl::StatusOr<P2pPath> p = PredictP2pPath(root, *c.address, *e->dma_client);
    if (!p.ok()) {
      why.push_back(absl::StrCat(e->controller, ": ", p.status().message()));
      continue;
    }
    k.paths.push_back(*p);
    if (!PathAllowed(p->verdict))
      why.push_back(absl::StrCat(c.address->ToString(), " -> ", e->controller, " ", PathVerdictName(p->verdict),
                                 ": ", p->reason, p->fix.empty() ? "" : absl::StrCat(". Fix: ", p->fix)));
  }
  bool all_known = k.paths.size() == 2;
  k.ok = all_known && std::all_of(k.paths.begin(), k.paths.end(), [](const P2pPath& p) { return PathAllowed(p.verdict); });
  k.maybe = !k.ok && all_known && std::none_of(k.paths.begin(), k.paths.end(), [](const P2pPath& p) {
    return p.verdict == PathVerdict::kUnsupported;
  });
  if (!c.p2pmem || !c.p2pmem->allocate) {
    why.push_back(absl::StrCat(c.address->ToString(), ": this kernel has no p2pmem/allocate (needs Linux >= ",
                               KernelSince::kP2pmemAllocate.ToString(), ")"));
    k.ok = k.maybe = false;
  }
  k.why = absl::StrJoin(why, "; ");
  return k;
}

// Whether the owner takes commands of `multi` (> one page) bytes into its
// CMB: through passthrough when the prediction leaves it open, else (asked
// for, or `may_block`) through the block device, whose own commands the
// block layer builds (PRPs on 7.3, where passthrough has an SGL list in host
// memory). A proof through the block device moves `o` to that path.
using ProbeFn = std::function<absl::StatusOr<bool>(uint64_t bytes, DataPath path)>;
absl::StatusOr<bool> ProveMultiPage(OwnCmbPlan& o, const ProbeFn& probe, uint64_t multi, bool may_block) {
  if (o.path == DataPath::kPassthrough && o.predicted.outcome == OwnCmbOutcome::kProbe) {
    CMB_ASSIGN_OR_RETURN(bool ok, probe(multi, DataPath::kPassthrough));
    if (ok) return true;
  }
  if (o.path != DataPath::kBlock && !may_block) return false;
  CMB_ASSIGN_OR_RETURN(bool ok, probe(multi, DataPath::kBlock));
  if (!ok) return false;
  o.path = DataPath::kBlock;
  o.command_bytes_limit = 0;
  return true;
}

// A CMB that belongs to one end of the copy: predict whether its owner takes
// the commands (own_cmb.h) and, where the prediction is not certain, prove it
// with a read into the CMB, so the copy never fails half-way for it. Returns
// the plan for that CMB, or why it cannot be used.
absl::StatusOr<OwnCmbPlan> CheckOwnCmb(const KernelRules& rules, const CopyRequest& req,
                                       const CopyPlan& plan, const Controller& owner) {
  const OwnCmbVerdict v = PredictOwnCmb(rules, owner);
  OwnCmbPlan o{owner.name, v, {}, v.command_bytes_limit, false, req.path.value_or(DataPath::kPassthrough)};
  // The prediction is passthrough's (how the kernel points at user
  // commands' data); the block layer's own commands are proven, not predicted.
  if (o.predicted.outcome == OwnCmbOutcome::kFull && o.path == DataPath::kPassthrough) return o;
  // The end whose commands use the CMB in the copy's direction: the source
  // reads into it, the destination writes from it (as dst when both).
  const bool is_dst = owner.address == plan.dst.address;
  const CopyEnd& e = is_dst ? plan.dst : plan.src;
  const uint64_t page = KernelRules::kSingleDescriptorBytes, lba_size = e.ns.lba_size;
  const uint64_t largest = LargestCommand(req, plan);
  const bool write_back = is_dst && req.prove_with_writes && req.extents.empty();
  o.is_dst = is_dst;
  auto probe = [&](uint64_t bytes, DataPath path) -> absl::StatusOr<bool> {
    // Never more than one command of the copy moves, at its first LBA: a
    // write-back stays inside the range the copy overwrites, a read inside
    // the namespace (an extent list's lowest LBA, its largest extent).
    const uint64_t lba = e.lba;
    absl::StatusOr<OwnCmbProbe> p = req.probe_own_cmb
                                        ? req.probe_own_cmb(e.ns, *owner.address, lba, bytes, write_back, path)
                                        : ProbeOwnCmb(e.ns, *owner.address, lba, bytes, write_back, path);
    if (!p.ok())
      return Reworded(p.status(), absl::StrCat("its own CMB could not be proven: a ", bytes,
                                                          "-byte command failed to run: ", p.status().message()));
    o.probes.push_back(*p);
    return p->accepted;
  };
  // Two pages (or the whole copy when smaller): a command the kernel
  // describes with a list; one page: one it describes inline.
  uint64_t multi = std::min(std::max(2 * page, lba_size), largest / lba_size * lba_size);
  if (largest > page && multi > page) {
    const bool may_block = !req.path && e.ns.root.MayOpen(e.ns.block_device, write_back);
    CMB_ASSIGN_OR_RETURN(bool ok, ProveMultiPage(o, probe, multi, may_block));
    if (ok) return o;
  }
  // One-page commands must still be whole LBAs of both ends.
  const uint64_t unit = plan.chunk_unit();
  if (unit > page)
    return absl::FailedPreconditionError(absl::StrCat("its own CMB takes only one-page commands (", o.predicted.reason,
                                                      "), which cannot carry whole ", unit,
                                                      "-byte units of both ends' LBAs"));
  // A copy (or an extent list's largest extent) smaller than a page is
  // proven at its own size: all its commands are.
  CMB_ASSIGN_OR_RETURN(bool ok, probe(std::min(page, largest), o.path));
  if (!ok)
    return absl::FailedPreconditionError(absl::StrCat("its own CMB: ", o.predicted.reason, "; a ", page, "-byte ",
                                                      write_back ? "read and write-back" : "read",
                                                      " through it was refused too (", o.probes.back().status, ")"));
  o.command_bytes_limit = page;
  return o;
}

std::string DescribeOwnCmb(const OwnCmbPlan& o) {
  std::string s = absl::StrCat(o.owner, "'s own CMB: ", o.predicted.reason);
  for (const OwnCmbProbe& p : o.probes)
    absl::StrAppend(&s, "; proven by a ", p.bytes, "-byte ", p.wrote_back ? "read and write-back of the same bytes" : "read",
                    " through it (", DataPathName(p.path), "): ", p.accepted ? "accepted" : absl::StrCat("refused (", p.status, ")"));
  if (!o.probes.empty() && !o.probes.back().wrote_back && o.is_dst)
    absl::StrAppend(&s, " (writes from it not proven: a dry run, or a plan of extents, proves by reading)");
  if (o.command_bytes_limit) absl::StrAppend(&s, "; so every command is at most ", o.command_bytes_limit, " bytes");
  if (o.path == DataPath::kBlock) absl::StrAppend(&s, "; so ", o.owner, "'s end goes through its block device");
  return s;
}

// The CMBs to try, in order: `via` alone, else the destination's own, the
// source's own, then every other published one.
absl::StatusOr<std::vector<const Controller*>> CandidateProviders(const System& sys, const CopyRequest& req,
                                                                   const CopyPlan& plan) {
  std::vector<const Controller*> order;
  if (req.via) {
    const Controller* c = sys.FindByAddress(*req.via);
    const std::string asked = absl::StrCat("the CMB asked for, ", req.via->ToString());
    if (c == nullptr) return absl::NotFoundError(absl::StrCat(asked, ": no NVMe controller there"));
    if (!c->p2pmem)
      return absl::FailedPreconditionError(absl::StrCat(asked, " (", c->name, "), has no p2pmem pool: ",
                                                        !c->p2pmem_note.empty() ? c->p2pmem_note
                                                        : c->cmb_note.empty()   ? "no CMB registered"
                                                                                : c->cmb_note));
    if (!c->p2pmem->published)
      return absl::FailedPreconditionError(absl::StrCat(
          asked, ": it is not published (the nvme driver publishes only CMBs that support both reads and writes, "
          "CMBSZ.WDS and RDS)"));
    return std::vector<const Controller*>{c};
  }
  auto add = [&](const Controller* c) {  // one controller may be both ends
    if (c->address && std::find(order.begin(), order.end(), c) == order.end()) order.push_back(c);
  };
  for (const std::string* serial : {&plan.dst.serial, &plan.src.serial})
    for (size_t i : sys.Providers())
      if (sys.controllers[i].serial == *serial) add(&sys.controllers[i]);
  for (size_t i : sys.Providers()) add(&sys.controllers[i]);
  if (order.empty()) {
    absl::Status s = absl::FailedPreconditionError(absl::StrCat(
        "no CMB is published as P2P memory on this machine (kernel P2PDMA support: ", SupportName(sys.kernel.p2pdma),
        sys.kernel.evidence.empty() ? "" : absl::StrCat(", ", sys.kernel.evidence), ")"));
    for (const Fix& f : sys.kernel.fixes) AddFix(s, f);
    AddFix(s, {.kind = Fix::Kind::kInspect, .look = Fix::Look::kP2pVerdicts});
    return OrBounce(req, s);
  }
  return order;
}

// The first candidate the kernel allows (then the first undecidable one); a
// CMB of one end must also take its owner's commands (plan.own_cmb).
Candidate* ChooseCandidate(const System& sys, const CopyRequest& req, CopyPlan& plan,
                           std::vector<Candidate>& judged) {
  for (bool want_ok : {true, false})
    for (Candidate& k : judged) {
      if (!(want_ok ? k.ok : k.maybe)) continue;
      if (k.c->address == plan.src.address || k.c->address == plan.dst.address) {
        absl::StatusOr<OwnCmbPlan> o = CheckOwnCmb(sys.rules, req, plan, *k.c);
        if (!o.ok()) {
          k.why = k.why.empty() ? std::string(o.status().message()) : absl::StrCat(k.why, "; ", o.status().message());
          k.ok = k.maybe = false;
          continue;
        }
        plan.own_cmb = *o;
      }
      if (!want_ok)
        plan.reasons.push_back(absl::StrCat("provider ", k.c->address->ToString(),
                                            ": path not decidable without root (", k.why, "); trying it"));
      return &k;
    }
  return nullptr;
}

// The plan's reasons for the pick: its role and verdicts, the own-CMB proof,
// and why every other candidate was not taken.
void ExplainPick(const Candidate& pick, const std::vector<Candidate>& judged, CopyPlan& plan) {
  if (pick.ok) {
    std::string role = pick.c->serial == plan.dst.serial ? "the destination's own CMB"
                       : pick.c->serial == plan.src.serial ? "the source's own CMB"
                                                          : "a third controller's CMB";
    plan.reasons.push_back(absl::StrFormat("provider %s (%s, %s): %s -> %s %s, -> %s %s", pick.c->address->ToString(),
                                           pick.c->name, role, pick.c->name, plan.src.controller,
                                           PathVerdictName(pick.paths[0].verdict), plan.dst.controller,
                                           PathVerdictName(pick.paths[1].verdict)));
  }
  if (plan.own_cmb) plan.reasons.push_back(DescribeOwnCmb(*plan.own_cmb));
  for (const Candidate& k : judged)
    if (&k != &pick && !k.why.empty()) plan.reasons.push_back(absl::StrCat("not ", k.c->name, ": ", k.why));
}

// An end without a PCI function of its own (NVMe over Fabrics): which
// device would do its DMA, or the rule that keeps P2P memory from it.
absl::Status JudgeFabricEnd(const System& sys, const CopyRequest& req, CopyEnd& e, CopyPlan& plan) {
  if (e.dma_client) return absl::OkStatus();
  const Controller* c = sys.FindController(e.controller);
  Controller unknown;
  unknown.name = e.controller;
  FabricClient f = JudgeFabricClient(sys.rules, c ? *c : unknown);
  if (!f.eligible) {
    absl::Status s =
        absl::FailedPreconditionError(absl::StrCat(f.reason, f.fix.empty() ? "" : absl::StrCat(". Fix: ", f.fix)));
    return OrBounce(req, s);
  }
  e.dma_client = f.dma_client;
  plan.reasons.push_back(f.reason);
  return absl::OkStatus();
}

absl::Status PickProvider(const SysRoot& root, const System& sys, const CopyRequest& req, CopyPlan& plan) {
  for (CopyEnd* e : {&plan.src, &plan.dst}) CMB_RETURN_IF_ERROR(JudgeFabricEnd(sys, req, *e, plan));
  CMB_ASSIGN_OR_RETURN(std::vector<const Controller*> order, CandidateProviders(sys, req, plan));
  std::vector<Candidate> judged;
  for (const Controller* c : order) judged.push_back(Judge(root, *c, plan));
  const Candidate* pick = ChooseCandidate(sys, req, plan, judged);
  if (!pick) {
    std::vector<std::string> whys;
    for (const Candidate& k : judged) whys.push_back(absl::StrCat(k.c->name, " (", k.c->address->ToString(), "): ", k.why));
    return OrBounce(req, absl::FailedPreconditionError(absl::StrCat(
                             "no CMB has a P2P path the kernel allows to both ", plan.src.controller, " and ",
                             plan.dst.controller, ": ", absl::StrJoin(whys, " | "))));
  }
  plan.provider = pick->c->address;
  plan.paths = pick->paths;
  ExplainPick(*pick, judged, plan);
  return absl::OkStatus();
}

// NVMe Copy when both ends are one namespace whose controller supports it
// (asked for, or auto): kNvmeCopy with its chunk and depth, else kAuto
// (auto) or why not (asked for).
absl::StatusOr<CopyMethod> ConsiderNvmeCopy(const CopyRequest& req, CopyPlan& plan) {
  const bool same_ns = plan.src.ns.block_device == plan.dst.ns.block_device;
  absl::StatusOr<IdentifyInfo> id = same_ns ? Identify(plan.dst.ns) : absl::StatusOr<IdentifyInfo>(IdentifyInfo{});
  uint32_t max_lbas = id.ok() ? std::min<uint32_t>(id->max_copy_lbas(), 65536) : 0;
  if (same_ns && max_lbas > 0) {
    plan.chunk_bytes = uint64_t{max_lbas} * plan.dst.ns.lba_size;
    unsigned qd = req.qd ? req.qd : kDefaultQd;
    plan.qd = static_cast<unsigned>(std::min<uint64_t>(qd, Commands(req, plan, plan.chunk_bytes)));
    plan.reasons.push_back(absl::StrFormat(
        "nvme-copy: source and destination are the same namespace and the controller supports Copy (ONCS bit 8); "
        "%u LBAs per command (min of MSSRL %u, MCL %u)", max_lbas, id->mssrl, id->mcl));
    return CopyMethod::kNvmeCopy;
  }
  if (req.method == CopyMethod::kNvmeCopy) {
    if (!same_ns)
      return WithFix(absl::InvalidArgumentError("NVMe Copy copies within one namespace only; source and "
                                                "destination differ"),
                     SetOption(Fix::Option::kMethod, "auto"));
    if (!id.ok()) return Reworded(id.status(), absl::StrCat("cannot tell whether Copy is supported: ", id.status().message()));
    return absl::FailedPreconditionError(absl::StrCat(plan.dst.controller, " does not support NVMe Copy (ONCS bit 8 clear)"));
  }
  if (same_ns)
    plan.reasons.push_back(id.ok() ? "not nvme-copy: the controller does not support Copy (ONCS bit 8)"
                                   : absl::StrCat("not nvme-copy: ", id.status().message()));
  return CopyMethod::kAuto;
}

// NVMe Copy is a passthrough command: never on the block device path.
absl::Status CheckPathAndMethod(const CopyRequest& req) {
  if (req.method != CopyMethod::kNvmeCopy || req.path != DataPath::kBlock) return absl::OkStatus();
  return WithFix(absl::InvalidArgumentError("NVMe Copy is a passthrough command: a block device cannot send it"),
                 SetOption(Fix::Option::kPath, DataPathName(DataPath::kPassthrough)));
}

// Each end's data path (data_path.h): the one asked for, else the owner's
// of a CMB as CheckOwnCmb proved it, else passthrough unless this process
// may open only the end's block device.
absl::Status ChoosePaths(const SysRoot& root, const CopyRequest& req, CopyPlan& plan) {
  if (plan.method == CopyMethod::kNvmeCopy) return absl::OkStatus();  // passthrough: CheckPathAndMethod
  std::vector<CopyEnd*> ends{&plan.src, &plan.dst};
  for (CopyEnd& e : plan.fanout) ends.push_back(&e);
  for (CopyEnd* e : ends) {
    const bool writes = e != &plan.src;
    if (req.path) e->path = *req.path;
    else if (plan.own_cmb && e->controller == plan.own_cmb->owner) e->path = plan.own_cmb->path;
    else if (!root.MayOpen(e->ns.generic_device, writes) && root.MayOpen(e->ns.block_device, writes)) {
      e->path = DataPath::kBlock;
      plan.reasons.push_back(absl::StrCat(e->ns.name, " through its block device: this process may open ",
                                          e->ns.block_device, " but not ", e->ns.generic_device));
    }
  }
  if (req.path) plan.reasons.push_back(absl::StrCat("data path ", DataPathName(*req.path), " on every end, as asked"));
  return absl::OkStatus();
}

}  // namespace

uint64_t CopyPlan::lba_unit() const {
  uint64_t unit = src.ns.lba_size;
  for (const CopyEnd* e : destinations()) unit = std::lcm<uint64_t>(unit, e->ns.lba_size);
  return unit;
}

uint64_t CopyPlan::chunk_unit() const { return std::lcm<uint64_t>(lba_unit(), PageBytes()); }

const char* CopyMethodName(CopyMethod m) {
  switch (m) {
    case CopyMethod::kAuto: return "auto";
    case CopyMethod::kP2p: return "p2p";
    case CopyMethod::kBounce: return "bounce";
    case CopyMethod::kNvmeCopy: return "nvme-copy";
  }
  return "?";
}

absl::StatusOr<CopyMethod> ParseCopyMethod(absl::string_view text) {
  for (CopyMethod m : {CopyMethod::kAuto, CopyMethod::kP2p, CopyMethod::kBounce, CopyMethod::kNvmeCopy})
    if (text == CopyMethodName(m)) return m;
  return absl::InvalidArgumentError(absl::StrCat("unknown method '", text, "' (auto, p2p, bounce, nvme-copy)"));
}

absl::StatusOr<CopyPlan> PlanCopy(const SysRoot& root, const System& sys, const CopyRequest& req) {
  if (req.src.ns == nullptr || req.dst.ns == nullptr) return absl::InvalidArgumentError("source or destination missing");
  CopyPlan plan;
  plan.src = End(req.src, req.src_lba);
  plan.dst = End(req.dst, req.dst_lba);
  CMB_RETURN_IF_ERROR(CheckRanges(req, plan));
  if (req.qd > kMaxQd)
    return WithFix(absl::InvalidArgumentError(absl::StrCat("queue depth ", req.qd, " is above ", kMaxQd)),
                   SetOption(Fix::Option::kQd, absl::StrCat(kMaxQd, " or less")));

  CMB_RETURN_IF_ERROR(CheckPathAndMethod(req));
  CopyMethod m = req.method;
  if ((m == CopyMethod::kAuto && req.path != DataPath::kBlock) || m == CopyMethod::kNvmeCopy) {
    CMB_ASSIGN_OR_RETURN(m, ConsiderNvmeCopy(req, plan));
  }
  if (m == CopyMethod::kAuto || m == CopyMethod::kP2p) {
    absl::Status s = PickProvider(root, sys, req, plan);
    if (s.ok()) {
      m = CopyMethod::kP2p;
    } else if (m == CopyMethod::kAuto && req.allow_bounce && !req.via && s.code() == absl::StatusCode::kFailedPrecondition) {
      m = CopyMethod::kBounce;
      plan.reasons.push_back(absl::StrCat("BOUNCE through host memory, not peer-to-peer: ", s.message()));
    } else {
      return s;
    }
  }
  plan.method = m;
  if (m == CopyMethod::kP2p) {
    const Controller* prov = sys.FindByAddress(*plan.provider);
    CMB_RETURN_IF_ERROR(SizeChunks(req, prov->p2pmem->available_bytes, plan));
  } else if (m == CopyMethod::kBounce) {
    CMB_RETURN_IF_ERROR(SizeChunks(req, UINT64_MAX, plan));
  }
  CMB_RETURN_IF_ERROR(ChoosePaths(root, req, plan));
  if (req.stripe) internal::AddStripe(root, sys, plan);
  plan.reasons.insert(plan.reasons.begin(), absl::StrCat("method ", CopyMethodName(m)));
  return plan;
}

}  // namespace cmb
