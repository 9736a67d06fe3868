// The copy plan: what a planner (planner.h) decided for a copy request, and
// the request itself. A plan says which method (P2P through a CMB, NVMe Copy
// inside one namespace, or a bounce through host memory), which CMB or CMBs,
// chunk size and queue depth, and why; a Copier (copier.h) runs one.
//
//   const cmb::CopyPlan& p = *plan;            // from cmb::PlanCopy (planner.h)
//   p.method, p.provider, p.chunk_bytes, p.qd, p.reasons
//
// A CopyPlan is a self-contained value, valid after the System is gone.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/data_path.h"
#include "cmb/discovery.h"
#include "cmb/extent_list.h"
#include "cmb/namespace_spec.h"
#include "cmb/own_cmb.h"
#include "cmb/p2p_path.h"

namespace cmb {

enum class CopyMethod { kAuto, kP2p, kBounce, kNvmeCopy };
const char* CopyMethodName(CopyMethod m);  // "auto", "p2p", "bounce", "nvme-copy"
absl::StatusOr<CopyMethod> ParseCopyMethod(absl::string_view text);

struct CopyRequest {
  NamespaceRef src{}, dst{};
  uint64_t src_lba = 0, dst_lba = 0;
  std::optional<uint64_t> count{};  // source LBAs; exactly one of count and bytes
  std::optional<uint64_t> bytes{};
  // Instead of a range (`src_lba`, `dst_lba` and `count` or `bytes`, which
  // then stay unset): the extents a Copier will be given (copier.h), not
  // copied, so they must outlive the call. The plan is sized for them: bytes
  // is their sum, src.lba and dst.lba the lowest LBA they touch on each end,
  // the depth at most their commands; every extent is whole LBAs of every end
  // and lies inside every namespace (OutOfRange names the span that does
  // not). Overlaps between them are Copier::Submit's to refuse. An own-CMB
  // proof only reads, whatever `prove_with_writes` says: what it would write
  // back from the lowest destination LBA need not lie in the list.
  std::span<const Extent> extents{};
  std::optional<PciAddress> via{};  // the CMB to use; nullopt picks one
  CopyMethod method = CopyMethod::kAuto;
  bool allow_bounce = false;      // let auto fall back to host memory
  uint64_t chunk_bytes = 0;       // 0: the largest both devices accept, at most 1 MiB
  unsigned qd = 0;                // chunks in flight; 0: 16
  bool force = false;             // allow a destination in use, or whose use is unknown; no exclusive hold
                                  // (needs CAP_SYS_ADMIN: without it, an in-use destination is PermissionDenied)
  // A plan for reading both ends only (comparing them, as cmbcp --verify-only
  // does): the destination's use is neither checked nor held, and the
  // Copier refuses the plan, so nothing is written with it.
  bool read_only = false;
  // P2P only: spread the chunks round-robin over every CMB that the source
  // and all destinations reach, `via` (or the picked one) first, since one
  // CMB's BAR bandwidth is often the bottleneck. Only third-party CMBs join
  // (an end's own CMB may refuse or limit commands). Opt-in until measured.
  bool stripe = false;
  // The proof of the destination's own CMB writes back what it read (the same
  // bytes, at the start of the range); false: reads only, as a dry run wants.
  bool prove_with_writes = true;
  // Every end's data path (data_path.h); nullopt: the planner picks per end.
  std::optional<DataPath> path{};
  // How the planner proves a controller's own CMB (own_cmb.h); empty: a real
  // command with ProbeOwnCmb(). Tests put the device's answer here.
  std::function<absl::StatusOr<OwnCmbProbe>(const Namespace&, const PciAddress&, uint64_t lba, uint64_t bytes,
                                            bool write_back, DataPath path)>
      probe_own_cmb{};
};

// When the CMB belongs to the source or the destination: what was predicted,
// what the device answered, and the command size that follows.
struct OwnCmbPlan {
  std::string owner;  // "nvme2"
  OwnCmbVerdict predicted;
  std::vector<OwnCmbProbe> probes;   // in the order run; empty when the prediction sufficed
  uint64_t command_bytes_limit = 0;  // 0: none; else every command is at most this
  bool is_dst = false;               // the destination owns it (its commands write from it)
  // The owner's data path: the block device where passthrough is held to one
  // page and a block-device command of several pages was proven to work.
  DataPath path = DataPath::kPassthrough;
};

// One side of the copy, self-contained (no pointers into the System).
struct CopyEnd {
  Namespace ns;
  std::string controller;  // "nvme0"
  std::string serial;
  std::optional<PciAddress> address;
  uint64_t lba = 0;  // first LBA
  DataPath path = DataPath::kPassthrough;  // how its commands reach it (the planner's reasons say why)
  // The PCI function that does this end's DMA for a P2P plan: the controller
  // itself, or for an NVMe/RDMA namespace the host's RDMA NIC (fabric_path.h).
  std::optional<PciAddress> dma_client;
};

struct CopyPlan {
  CopyMethod method = CopyMethod::kP2p;
  CopyEnd src, dst;
  uint64_t bytes = 0;
  std::optional<PciAddress> provider;  // the CMB, for kP2p
  std::vector<P2pPath> paths;          // provider -> src, provider -> dst, for kP2p; then each stripe CMB's
  // The CMBs besides `provider` that the chunks alternate over (req.stripe),
  // in order; the copier splits the qd chunks evenly over provider + these.
  std::vector<PciAddress> stripe;
  std::optional<OwnCmbPlan> own_cmb;   // for kP2p through the source's or destination's own CMB
  uint64_t chunk_bytes = 0;            // bytes per command
  unsigned qd = 0;                     // commands (chunks) in flight
  uint64_t ring_bytes() const { return method == CopyMethod::kNvmeCopy ? 0 : chunk_bytes * qd; }
  // The LBAs `bytes` makes on each end: a range from src.lba and dst.lba, or,
  // for a plan of extents (CopyRequest::extents), their sum on that end.
  uint64_t src_lbas() const { return bytes / src.ns.lba_size; }
  uint64_t dst_lbas() const { return bytes / dst.ns.lba_size; }
  // Further destinations of a fan-out (PlanFanOut): each gets the same bytes
  // at dst.lba, from the same chunk read once. Empty for a pair.
  std::vector<CopyEnd> fanout;
  // Whole LBAs of the source and of every destination: the unit of every
  // offset a plan counts in (resume offsets, prefixes, chunk sizes).
  uint64_t lba_unit() const;
  // lba_unit() and whole host pages (PageBytes()): the unit of every chunk
  // in P2P or host memory.
  uint64_t chunk_unit() const;
  std::vector<const CopyEnd*> destinations() const {
    std::vector<const CopyEnd*> v{&dst};
    for (const CopyEnd& e : fanout) v.push_back(&e);
    return v;
  }
  // Every CMB the chunks alternate over: provider, then stripe (none without a provider).
  std::vector<PciAddress> cmbs() const {
    std::vector<PciAddress> v;
    if (provider) v.push_back(*provider);
    v.insert(v.end(), stripe.begin(), stripe.end());
    return v;
  }
  std::vector<std::string> reasons;  // why this method, provider, chunk and depth
  // The Copier (and so RunCopy) opens every destination's block device with
  // O_EXCL while it lives, as mkfs does, so no file system, swap, md or dm
  // can claim it meanwhile. False only when root forced the copy, or the plan
  // is read_only.
  bool hold_dst = true;
  bool read_only = false;  // CopyRequest::read_only: not for writing
  // Safety checks req.force overrode ("destination /dev/nvme2n1 is in use
  // (mounted on /mnt)"): a caller should show every one.
  std::vector<std::string> overridden;
};

// The chunks CMB `i` of `n` holds when `qd` are striped over them (CopyPlan::cmbs
// order): as evenly as possible, the first ones one more.
inline unsigned StripeShare(unsigned qd, size_t n, size_t i) {
  return static_cast<unsigned>(qd / n + (i < qd % n ? 1 : 0));
}

}  // namespace cmb
