// P2P path verdict: predicts what the kernel's p2pdma code
// (drivers/pci/p2pdma.c: calc_map_type_and_dist(), host_bridge_whitelist(),
// cpu_supports_p2pdma()) of the running kernel will decide for a provider
// (the device whose CMB holds the buffer) and a client (the device doing
// DMA), and explains it. What differs by release (the host-bridge whitelist,
// the errno of a refusal) comes from kernel_rules.h.
//
//   absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(root, cmb_bdf, nvme_bdf);
//   if (p->verdict == cmb::PathVerdict::kUnsupported) std::cerr << p->reason << p->fix;
//
// The prediction only reads sysfs and /proc/cpuinfo; ACS bits need the
// extended config space, which only root can read: without it the verdict
// for a switch path is kUnknown, never a guess.
//
// Threads: reads sysfs and returns values; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/kernel_rules.h"
#include "cmb/pci_address.h"
#include "cmb/sysroot.h"

namespace cmb {

enum class PathVerdict {
  kSwitch,       // PCI_P2PDMA_MAP_BUS_ADDR: a common upstream bridge, no ACS redirect
  kHostBridge,   // PCI_P2PDMA_MAP_THRU_HOST_BRIDGE: allowed through the root complex
  kUnsupported,  // PCI_P2PDMA_MAP_NOT_SUPPORTED: the kernel refuses (-EREMOTEIO; -EINVAL since 6.17)
  kUnknown,      // not decidable without root (ACS bits, root port type)
};
const char* PathVerdictName(PathVerdict v);  // "switch", "host_bridge", ...
// Whether the kernel maps the pair: kSwitch or kHostBridge.
inline bool PathAllowed(PathVerdict v) { return v == PathVerdict::kSwitch || v == PathVerdict::kHostBridge; }

struct P2pPath {
  PciAddress provider;
  PciAddress client;
  PathVerdict verdict = PathVerdict::kUnknown;
  int distance = -1;  // the kernel's distance (0 same function, 4 same switch)
  std::optional<PciAddress> common_bridge;
  std::vector<PciAddress> acs_redirect;  // ports in the path with RR/CR/EC set
  std::vector<PciAddress> acs_unknown;   // ports whose ACS could not be read
  std::string reason;  // one sentence: why
  std::string fix;     // what to change, empty when nothing needs to
};

// Facts about the platform the verdict needs beyond the PCI tree.
struct PlatformFacts {
  bool amd_zen_or_newer = false;  // cpu_supports_p2pdma(): AMD family >= 0x17
  std::string cpu;                // "AuthenticAMD family 0x19" for the reason
  KernelRules kernel = KernelRules::For("");  // the running kernel's rules (newest when unknown)
};
// From /proc/cpuinfo and /proc/sys/kernel/osrelease.
PlatformFacts ReadPlatformFacts(const SysRoot& root);

absl::StatusOr<P2pPath> PredictP2pPath(const SysRoot& root, const PciAddress& provider,
                                       const PciAddress& client);
absl::StatusOr<P2pPath> PredictP2pPath(const SysRoot& root, const PlatformFacts& platform,
                                       const PciAddress& provider, const PciAddress& client);

}  // namespace cmb
