// Fabric P2P verdict: whether the namespaces of an NVMe over Fabrics
// controller (tcp, rdma, fc, loop) can take P2P memory on the running kernel,
// and for RDMA, whether a CMB reaches the RDMA NIC that does the DMA.
//
//   const cmb::Controller* c = sys.FindController("nvme3");
//   cmb::FabricClient f = cmb::JudgeFabricClient(sys.rules, *c);
//   if (!f.eligible) std::cerr << f.reason;  // "nvme3 is an NVMe/TCP controller: ..."
//   absl::StatusOr<cmb::FabricPath> p = cmb::PredictFabricPath(root, platform, cmb_bdf, *c);
//   if (p.ok() && p->allowed) ...  // P2P from that CMB through the RNIC
//
// What the kernel does (kmod-notes/fabrics.md): a namespace's queue takes P2P
// pages only when its transport says so (nvme_alloc_ns). nvme-pci does;
// nvme-rdma does since 7.1 when its ib device is a PCI function
// (nvme_rdma_supports_pci_p2pdma); nvme-tcp, nvme-fc and nvme-loop never do.
// For RDMA the RNIC maps the pages, so the P2P pair is (CMB, RNIC), judged by
// the same engine as any PCIe pair (p2p_path.h).
//
// Threads: pure functions over values and sysfs reads; safe from any thread.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "cmb/discovery.h"
#include "cmb/kernel_rules.h"
#include "cmb/p2p_path.h"
#include "cmb/pci_address.h"
#include "cmb/sysroot.h"

namespace cmb {

struct FabricClient {
  std::string controller;  // "nvme3"
  std::string transport;   // "tcp", "rdma", "fc", "loop", or another non-PCIe transport
  // The kernel lets this controller's namespaces take P2P memory at all.
  bool eligible = false;
  // Who does the DMA for them: the RDMA NIC's PCI function (rdma only).
  std::optional<PciAddress> dma_client;
  std::string reason;  // one sentence: which rule applies
  std::string fix;     // what would make it eligible; empty when nothing would
};

// The verdict for a controller without a PCI function of its own. A PCIe
// controller is eligible with itself as the client.
FabricClient JudgeFabricClient(const KernelRules& rules, const Controller& c);

struct FabricPath {
  PciAddress provider;
  FabricClient client;
  std::optional<P2pPath> path;  // provider -> the RNIC, when the client is eligible
  bool allowed = false;         // eligible, and the kernel maps the pair (switch or host bridge)
  std::string reason;
  std::string fix;
};

// The verdict for P2P between the CMB of `provider` and the namespaces of
// fabric controller `c`.
absl::StatusOr<FabricPath> PredictFabricPath(const SysRoot& root, const PlatformFacts& platform,
                                             const PciAddress& provider, const Controller& c);

}  // namespace cmb
