// The kernel's NVMe-oF target (nvmet) as configfs shows it, and what it will
// do with a namespace's `p2pmem`: whether enabling the namespace accepts it,
// and whether the ports that export it use it.
//
//   absl::StatusOr<cmb::NvmetConfig> t = cmb::ReadNvmetConfig(root);
//   for (const cmb::NvmetNamespace& n : t->AllNamespaces()) {
//     cmb::NvmetP2pPrediction p = cmb::PredictNvmetP2p(sys, platform, *t, n);
//     // p.accepted: nullopt (no p2pmem set), true, or false with p.accepted_reason
//   }
//
// Read in Linux 7.3.4 (drivers/nvme/target/): configfs.c lays out
// /sys/kernel/config/nvmet/{ports,subsystems,hosts}; a namespace's `p2pmem`
// (only with CONFIG_PCI_P2PDMA) shows "0", "1" (any) or a BDF
// (pci_p2pdma_enable_show); core.c nvmet_p2pmem_ns_enable() refuses, with
// EINVAL, a non-block namespace, a block device whose queue lacks
// BLK_FEAT_PCI_P2PDMA, a named device pci_p2pdma_distance() cannot reach
// from the backing device, and "1" when pci_p2pmem_find() finds none. The
// distance starts from the backing disk's first PCI ancestor
// (find_parent_pci_dev): a native multipath head (/dev/nvmeXnY of a
// controller whose CMIC says it may share namespaces; QEMU 10's do) lives
// under /sys/devices/virtual and has none, so it is refused as "not a PCI
// device" whatever the topology;
// nvmet_p2pmem_ns_add_p2p() uses it only for a controller with a p2p_client,
// which only nvmet-rdma sets (rdma.c, when ib_dma_pci_p2p_dma_supported()).
//
// Threads: ReadNvmetConfig reads configfs; the prediction is pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/discovery.h"
#include "cmb/fix.h"
#include "cmb/p2p_path.h"
#include "cmb/pci_address.h"
#include "cmb/sysroot.h"

namespace cmb {

inline constexpr const char* kNvmetConfigfs = "/sys/kernel/config/nvmet";

struct NvmetNamespace {
  std::string subsystem{};  // the subsystem's NQN, as configfs names its directory
  uint32_t nsid = 0;
  std::string device_path{};  // the backing block device or file; empty when unset
  bool enabled = false;
  // The p2pmem attribute: nullopt when configfs has none (no CONFIG_PCI_P2PDMA).
  std::optional<std::string> p2pmem_raw{};
  bool p2pmem_on() const { return p2pmem_raw && *p2pmem_raw != "0"; }
  bool p2pmem_auto() const { return p2pmem_raw && *p2pmem_raw == "1"; }
  // The named provider, when p2pmem is a BDF.
  std::optional<PciAddress> p2pmem_device() const;
};

struct NvmetPort {
  std::string id{};  // the port's directory: its number
  std::string trtype{}, adrfam{}, traddr{}, trsvcid{};
  std::vector<std::string> subsystems{};  // NQNs linked under ports/<id>/subsystems
};

struct NvmetSubsystem {
  std::string nqn{};
  bool allow_any_host = false;
  std::vector<std::string> allowed_hosts{};
  std::vector<NvmetNamespace> namespaces{};
};

struct NvmetConfig {
  bool present = false;  // nvmet is loaded and configfs mounted: /sys/kernel/config/nvmet exists
  std::vector<NvmetPort> ports{};
  std::vector<NvmetSubsystem> subsystems{};
  std::vector<NvmetNamespace> AllNamespaces() const;
  // The ports that export `nqn`.
  std::vector<const NvmetPort*> PortsOf(const std::string& nqn) const;
};

// present=false, and no error, when nvmet is not loaded or configfs not mounted.
absl::StatusOr<NvmetConfig> ReadNvmetConfig(const SysRoot& root);

struct NvmetP2pPrediction {
  // Whether enabling the namespace accepts its p2pmem setting; nullopt when
  // none is set, or when the verdict needs root (ACS unreadable).
  std::optional<bool> accepted;
  std::string accepted_reason;
  std::optional<PciAddress> provider;  // the CMB it would use, when one can be named
  // Whether the ports exporting the subsystem will stage data in it; nullopt
  // for an RDMA port (it depends on the RDMA device being a PCI function).
  std::optional<bool> used;
  std::string used_reason;
  std::vector<Fix> fixes{};  // what would make enabling accept it, when something would
};

// The namespace's backing device resolved against `sys` (an NVMe PCIe
// namespace's block device), the P2P verdict from there to the p2pmem, and
// the exporting ports' transports.
NvmetP2pPrediction PredictNvmetP2p(const SysRoot& root, const System& sys, const PlatformFacts& platform,
                                   const NvmetConfig& config, const NvmetNamespace& ns);

}  // namespace cmb
