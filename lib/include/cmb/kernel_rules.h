// Kernel rules: what each Linux release's P2PDMA, block and io_uring code
// decides, in one place. Each fact names the kernel function it mirrors and
// the release it arrived in; the P2P predictor (p2p_path.h), the error
// explanations (nvme_queue.h) and cmbinfo read them for the kernel that runs.
//
//   cmb::KernelRules r = cmb::KernelRules::For(*cmb::ParseKernelRelease("7.3.4+deb13-amd64"));
//   r.unreachable_errno;      // EINVAL: since 6.17 an unreachable pair fails with BLK_STS_INVAL
//   r.rules_version;          // "7.3": the newest release whose rules are known and not newer
//
// Sources read: Debian's linux-source-6.12 (6.12.x) and linux-source-7.3
// (7.3.4-1~bpo13+1). Arrival releases between them are taken from the
// upstream changelogs (kmod-notes/README.md lists each with its evidence).
//
// Threads: rules are values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cmb/sysroot.h"

namespace cmb {

struct KernelVersion {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const KernelVersion&) const = default;
  std::string ToString() const;  // "7.3.4"; "7.3" when patch is 0
};

// "7.3.4+deb13-amd64", "6.8.0-151-generic", "5.14.0-427.el9.x86_64", "6.12":
// the upstream release they are built from; nullopt when there is none.
std::optional<KernelVersion> ParseKernelRelease(absl::string_view release);

// Arrival releases of what the library needs, for the rules below and for the
// messages that name a minimum kernel.
struct KernelSince {
  static constexpr KernelVersion kAmdZenP2p{5, 2, 0};       // cpu_supports_p2pdma(): AMD Zen host bridges
  static constexpr KernelVersion kPassthrough{5, 19, 0};     // IORING_OP_URING_CMD on /dev/ngXnY
  static constexpr KernelVersion kP2pmemAllocate{6, 2, 0};   // p2pmem/allocate, P2P pages in passthrough
  static constexpr KernelVersion kDmaIter{6, 17, 0};         // blk_dma_map_iter_*: -EINVAL, no mixing
  static constexpr KernelVersion kSqeMixed{6, 19, 0};        // IORING_SETUP_SQE_MIXED
  static constexpr KernelVersion kUnreadSglLayout{6, 13, 0}; // from here to kHostListP2p: multi-page P2P layout not read
  static constexpr KernelVersion kHostListP2p{7, 3, 0};      // multi-page P2P: SGL list in host memory
  static constexpr KernelVersion kCmbAlignment{6, 14, 0};    // nvme_map_cmb() skips a misaligned CMB
  static constexpr KernelVersion kPoolless{6, 19, 0};        // P2P providers without a memory pool
  static constexpr KernelVersion kNonMappableBars{7, 1, 0};  // no provider on a function with non_mappable_bars
  static constexpr KernelVersion kRdmaHostP2p{7, 1, 0};      // nvme-rdma namespaces take P2P pages (23528aa3320a)
};

// A stable series that took a mainline change: from a known point release,
// or at an unknown one (then `seen_in`, a point release whose source was read
// and has it, when there is one).
struct StableBackport {
  int major = 0, minor = 0;  // the series: 6.12
  int from_patch = -1;       // first point release with it (6.12.23); -1: not known
  int seen_in = -1;          // a point release read with it (6.1.176); -1: none read
};

// One change of what the kernel does, with the commit that made it and where
// cmb read it (kmod-notes/README.md, "Newer kernels' rules").
struct KernelFact {
  const char* commit = "";   // upstream commit, 12 hex digits
  KernelVersion since;       // first mainline release with it
  std::vector<StableBackport> stable;
  const char* what = "";     // one line for messages
};

struct KernelFacts {
  // 56cf7ef0d490 "nvme-pci: skip CMB blocks incompatible with PCI P2P DMA"
  // (drivers/nvme/host/pci.c, nvme_map_cmb): after clamping the CMB to its
  // BAR, the driver returns without registering it when the size or the BAR's
  // start (pci_resource_start, not start + offset) is not a multiple of
  // memremap_compat_align(), and logs nothing. Mainline 6.14 (posted Feb 2025,
  // merged among the 6.14-rc fixes; the 6.13-stable review carries it).
  // 6.12.y from 6.12.23 (patch 260/423 of the 6.12.23-rc1 review, 2025-04-08);
  // read in 6.12.117. 6.1.y: read in 6.1.176, first point release not known.
  // 5.10, 6.6 and 6.13 stable reviews carry it too, at points not read.
  static const KernelFact& CmbAlignment();
  // 372d6d1b8ae3 "PCI/P2PDMA: Refactor to separate core P2P functionality from
  // memory allocation" and siblings (6.19): struct p2pdma_provider per BAR;
  // pcim_p2pdma_init() gives a function P2P state without a pool (vfio-pci,
  // mlx5 in 7.3.4), and only pci_p2pdma_add_resource() creates the pool and
  // the p2pmem/ sysfs group. pci_has_p2pmem() is true only when published.
  static const KernelFact& PoollessProviders();
  // 951ebc18d181 "PCI/P2PDMA: Avoid returning a provider for
  // non_mappable_bars": pcim_p2pdma_init() fails -EOPNOTSUPP and
  // pcim_p2pdma_provider() returns NULL for a function whose BARs are marked
  // non_mappable_bars (7.3.4 read; set only by s390's fixup for IBM ISM). Such
  // a function has no resourceN files (__pci_resource_attr_is_visible). The
  // 7.1 arrival is the project notes'; no tagged tree was read for it.
  static const KernelFact& NonMappableBars();
};

// One entry of pci_p2pdma_whitelist[] (drivers/pci/p2pdma.c): a host bridge
// (the first device on the root bus) the kernel trusts for P2P through it.
struct WhitelistRule {
  uint16_t vendor = 0;
  int32_t device = -1;              // -1: any device of the vendor (PCI_ANY_ID, 7.1+)
  bool same_host_bridge = false;    // REQ_SAME_HOST_BRIDGE
  KernelVersion since;              // first mainline release with it
  std::optional<KernelVersion> stable;  // also in this stable series (e.g. 7.1.y), from an unknown point
  const char* what = "";            // "Intel Xeon E5/Core i7"
  bool Matches(uint16_t v, uint16_t d) const { return v == vendor && (device < 0 || device == d); }
};

// Whether a rule holds in a kernel: kYes, kNo, or kMaybe for a stable series
// that took the change at an unknown point release.
enum class RulePresence { kYes, kNo, kMaybe };
const char* RulePresenceName(RulePresence p);  // "yes", "no", "maybe"

// How the nvme driver describes a passthrough command's data in P2P memory
// to a controller that supports SGLs, when the data spans more than one page.
enum class P2pDataPointer {
  // In the command itself: one SGL Data Block, or PRPs whose first entry is
  // in the CMB. 6.12 (read): nvme_map_data() maps an sg table that
  // blk_rq_map_sg() merged, and one entry goes inline (nvme_pci_setup_sgls).
  kInCommand,
  // An SGL Last Segment whose descriptor list is in host memory, the data in
  // the CMB. 7.3 (read): nvme_pci_use_sgls() forces SGLs for user commands
  // (NVME_REQ_USERCMD), iov_iter_extract_bvecs() gives each p2pmem page its own
  // bvec (it merges only within a folio), and nvme_pci_setup_data_sgl() puts
  // more than one segment into a dma_pool list, even when they coalesce into
  // one data block. A command of one page stays one inline descriptor.
  kHostList,
  // 6.13 to 7.2: not read; the planner proves the path with one read.
  kUnknown,
};
const char* P2pDataPointerName(P2pDataPointer p);  // "in_command", "host_list", "unknown"

struct KernelRules {
  std::string release;          // as the kernel reports it ("7.3.4+deb13-amd64")
  std::optional<KernelVersion> version;  // parsed; nullopt: unparsable, newest rules used
  std::string rules_version;    // the rules applied: "6.12", "7.3", ...
  bool newer_than_known = false;  // the kernel is newer than the newest rules cmb knows
  // The errno a passthrough command gets for a pair the kernel will not map
  // (PCI_P2PDMA_MAP_NOT_SUPPORTED): -EREMOTEIO from the old blk_rq_map_sg
  // path, -EINVAL (BLK_STS_INVAL from blk_dma_map_iter_start) since 6.17.
  int unreachable_errno = 0;
  const char* unreachable_errno_name() const;  // "EINVAL" or "EREMOTEIO", for messages
  // Before 6.17 one request may mix P2P and host memory or two providers;
  // since "block: don't merge different kinds of P2P transfers" it may not.
  bool mixed_memory_per_command = true;
  bool p2pmem_allocate = false;   // p2pmem/allocate, p2pmem_alloc_mmap(): 6.2
  bool passthrough = false;       // IORING_OP_URING_CMD on /dev/ngXnY with SQE128|CQE32: 5.19
  bool sqe_mixed = false;         // IORING_SETUP_SQE_MIXED: 6.19
  // nvme_rdma_supports_pci_p2pdma(): an nvme-rdma host's namespaces accept
  // P2P pages when its RDMA device is a PCI function (7.1, commit
  // 23528aa3320a). nvme-tcp, nvme-fc and nvme-loop never do.
  bool rdma_host_p2p = false;
  P2pDataPointer multi_page_p2p = P2pDataPointer::kUnknown;
  // The largest command that is always one inline descriptor: one page.
  static constexpr uint64_t kSingleDescriptorBytes = 4096;
  // cpu_supports_p2pdma(): AMD family >= 0x17 passes through the root
  // complex (5.2+, unchanged through 7.3).
  bool amd_zen_rule = true;
  // nvme_map_cmb() skips a CMB whose size or BAR start is not a multiple of
  // memremap_compat_align() (KernelFacts::CmbAlignment): kMaybe in a stable
  // series that took it at a point release not known.
  RulePresence cmb_alignment_check = RulePresence::kNo;
  // The alignment: SUBSECTION_SIZE (2 MiB) on every architecture with the
  // generic memremap_compat_align() (mm/memremap.c); powerpc book3s64 with the
  // hash MMU wants its linear page size when that is larger.
  static constexpr uint64_t kMemremapCompatAlign = uint64_t{2} << 20;
  bool poolless_providers = false;     // 6.19: P2P state without a pool exists; only a published pool counts
  bool non_mappable_bars_refused = false;  // 7.1: no provider on a function with non_mappable_bars

  static KernelRules For(absl::string_view release);
  // The running kernel's rules: /proc/sys/kernel/osrelease through `root`.
  static KernelRules ForRunning(const SysRoot& root);

  // Every whitelist entry cmb knows, with its arrival: pci_p2pdma_whitelist[]
  // of 6.12.117 and 7.3.4 (read). No entry after 7.3 is known (no newer tree
  // read); Zhaoxin's host bridges are in a distribution's vendor tree only,
  // not in mainline, so they are not here (kmod-notes/README.md).
  static const std::vector<WhitelistRule>& AllWhitelist();
  RulePresence Has(const WhitelistRule& rule) const;
  RulePresence Has(const KernelFact& fact) const;
  // "since 7.2, and in 7.1.y stable" for messages.
  static std::string Arrival(const WhitelistRule& rule);
  // "56cf7ef0d490, Linux 6.14; 6.12.y from 6.12.23; 6.1.y (seen in 6.1.176)".
  static std::string Arrival(const KernelFact& fact);
  // One line for the user: "rules of Linux 7.3 (kernel 7.3.4+deb13-amd64)", with a
  // note when the kernel is newer than the rules or its release unparsable.
  std::string Describe() const;
};

}  // namespace cmb
