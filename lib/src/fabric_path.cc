#include "cmb/fabric_path.h"

#include "absl/strings/str_cat.h"

namespace cmb {
namespace {

// Transports whose host driver has no supports_pci_p2pdma operation: the
// data always passes through host memory (kmod-notes/fabrics.md).
struct HostMemoryTransport {
  const char* name;
  const char* label;  // "NVMe/TCP"
  const char* how;    // where the data goes instead
  const char* fix;
};

constexpr HostMemoryTransport kHostMemory[] = {
    {"tcp", "NVMe/TCP", "nvme-tcp carries the data through the kernel's network stack in host memory",
     "connect over RDMA through a hardware RDMA NIC that the CMB reaches, on Linux 7.1 or newer"},
    {"fc", "NVMe/FC", "nvme-fc hands the data to the Fibre Channel driver in host memory",
     "connect over RDMA through a hardware RDMA NIC that the CMB reaches, on Linux 7.1 or newer"},
    {"loop", "nvme-loop", "nvme-loop gives the local target the host's own pages, in host memory",
     "use the backing namespace through its own PCIe controller instead of the loop connection"},
};

FabricClient JudgeRdma(const KernelRules& rules, const Controller& c, FabricClient f) {
  const std::string since = KernelSince::kRdmaHostP2p.ToString();
  if (!rules.rdma_host_p2p) {
    f.reason = absl::StrCat(c.name, " is an NVMe/RDMA controller, and nvme-rdma namespaces take P2P memory only "
                            "since Linux ", since, " (commit 23528aa3320a); this kernel is ",
                            rules.release.empty() ? "of unknown release" : rules.release);
    f.fix = absl::StrCat("run Linux ", since, " or newer");
    return f;
  }
  const std::optional<RdmaNic>& nic = c.fabric ? c.fabric->rnic : std::nullopt;
  if (!nic) {
    f.reason = absl::StrCat(c.name, " is an NVMe/RDMA controller whose RDMA device is not known (",
                            c.fabric && !c.fabric->rnic_note.empty() ? c.fabric->rnic_note : "not found",
                            "): cannot tell which device would do the DMA");
    return f;
  }
  if (!nic->address) {
    f.reason = absl::StrCat(c.name, " is an NVMe/RDMA controller over ", nic->ib_device,
                            ": a soft RoCE/iWARP device has no PCI function, so the kernel maps its data through "
                            "host memory");
    f.fix = "connect through a hardware RDMA NIC (a PCI function) that the CMB reaches";
    return f;
  }
  f.eligible = true;
  f.dma_client = nic->address;
  f.reason = absl::StrCat(c.name, " is an NVMe/RDMA controller over ", nic->ib_device, " (", nic->address->ToString(),
                          "; ", nic->how, "): since Linux ", since,
                          " its namespaces take P2P memory, and that RDMA NIC does the DMA");
  return f;
}

}  // namespace

FabricClient JudgeFabricClient(const KernelRules& rules, const Controller& c) {
  FabricClient f;
  f.controller = c.name;
  f.transport = c.transport;
  if (c.address) {
    f.eligible = true;
    f.dma_client = c.address;
    f.reason = absl::StrCat(c.name, " is a PCIe controller (", c.address->ToString(), ")");
    return f;
  }
  for (const HostMemoryTransport& t : kHostMemory)
    if (c.transport == t.name) {
      f.reason = absl::StrCat(c.name, " is an ", t.label, " controller: ", t.how,
                              ", so its namespaces never take P2P memory");
      f.fix = t.fix;
      return f;
    }
  if (c.transport == "rdma") return JudgeRdma(rules, c, f);
  f.reason = absl::StrCat(c.name, " is not a PCIe device (transport ", c.transport.empty() ? "unknown" : c.transport,
                          "): the kernel gives P2P memory to the namespaces of PCIe controllers and, since Linux ",
                          KernelSince::kRdmaHostP2p.ToString(), ", of NVMe/RDMA ones only");
  return f;
}

absl::StatusOr<FabricPath> PredictFabricPath(const SysRoot& root, const PlatformFacts& platform,
                                             const PciAddress& provider, const Controller& c) {
  FabricPath p;
  p.provider = provider;
  p.client = JudgeFabricClient(platform.kernel, c);
  if (!p.client.eligible) {
    p.reason = p.client.reason;
    p.fix = p.client.fix;
    return p;
  }
  absl::StatusOr<P2pPath> path = PredictP2pPath(root, platform, provider, *p.client.dma_client);
  if (!path.ok()) return path.status();
  p.path = *path;
  p.allowed = PathAllowed(path->verdict);
  p.reason = absl::StrCat(p.client.reason, "; ", provider.ToString(), " -> ", p.client.dma_client->ToString(), " ",
                          PathVerdictName(path->verdict), ": ", path->reason);
  p.fix = path->fix;
  return p;
}

}  // namespace cmb
