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
  static constexpr KernelVersion kRdmaHostP2p{7, 1, 0};      // nvme-rdma namespaces take P2P pages (23528aa3320a)
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

  static KernelRules For(absl::string_view release);
  // The running kernel's rules: /proc/sys/kernel/osrelease through `root`.
  static KernelRules ForRunning(const SysRoot& root);

  // Every whitelist entry cmb knows, with its arrival.
  static const std::vector<WhitelistRule>& AllWhitelist();
  RulePresence Has(const WhitelistRule& rule) const;
  // "since 7.2, and in 7.1.y stable" for messages.
  static std::string Arrival(const WhitelistRule& rule);
  // One line for the user: "rules of Linux 7.3 (kernel 7.3.4+deb13-amd64)", with a
  // note when the kernel is newer than the rules or its release unparsable.
  std::string Describe() const;
};

}  // namespace cmb
