// nvmet's configfs tree and its p2pmem decisions (nvmet.h).
#include "cmb/nvmet.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cmb/status_macros.h"

namespace cmb {

std::optional<PciAddress> NvmetNamespace::p2pmem_device() const {
  if (!p2pmem_on() || p2pmem_auto()) return std::nullopt;
  absl::StatusOr<PciAddress> a = PciAddress::Parse(*p2pmem_raw);
  return a.ok() ? std::optional<PciAddress>(*a) : std::nullopt;
}

std::vector<NvmetNamespace> NvmetConfig::AllNamespaces() const {
  std::vector<NvmetNamespace> all;
  for (const NvmetSubsystem& s : subsystems) all.insert(all.end(), s.namespaces.begin(), s.namespaces.end());
  return all;
}

std::vector<const NvmetPort*> NvmetConfig::PortsOf(const std::string& nqn) const {
  std::vector<const NvmetPort*> out;
  for (const NvmetPort& p : ports)
    if (std::find(p.subsystems.begin(), p.subsystems.end(), nqn) != p.subsystems.end()) out.push_back(&p);
  return out;
}

namespace {

// An attribute, or empty when it is missing or unreadable (configfs shows
// every attribute of an item; a missing one means an older kernel).
std::string Attr(const SysRoot& root, const std::string& path) {
  absl::StatusOr<std::string> v = root.ReadAttr(path);
  return v.ok() ? *v : "";
}

std::vector<std::string> Names(const SysRoot& root, const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> v = root.List(dir);
  return v.ok() ? *v : std::vector<std::string>{};
}

absl::StatusOr<NvmetSubsystem> ReadSubsystem(const SysRoot& root, const std::string& nqn) {
  const std::string dir = absl::StrCat(kNvmetConfigfs, "/subsystems/", nqn);
  NvmetSubsystem s{.nqn = nqn, .allow_any_host = Attr(root, dir + "/attr_allow_any_host") == "1",
                   .allowed_hosts = Names(root, dir + "/allowed_hosts")};
  CMB_ASSIGN_OR_RETURN(std::vector<std::string> nsids, root.List(dir + "/namespaces"));
  for (const std::string& id : nsids) {
    const std::string nd = absl::StrCat(dir, "/namespaces/", id);
    NvmetNamespace n{.subsystem = nqn, .device_path = Attr(root, nd + "/device_path"),
                     .enabled = Attr(root, nd + "/enable") == "1"};
    if (!absl::SimpleAtoi(id, &n.nsid)) continue;  // not a namespace directory
    if (root.Exists(nd + "/p2pmem")) n.p2pmem_raw = Attr(root, nd + "/p2pmem");
    s.namespaces.push_back(std::move(n));
  }
  return s;
}

NvmetPort ReadPort(const SysRoot& root, const std::string& id) {
  const std::string dir = absl::StrCat(kNvmetConfigfs, "/ports/", id);
  return NvmetPort{.id = id, .trtype = Attr(root, dir + "/addr_trtype"), .adrfam = Attr(root, dir + "/addr_adrfam"),
                   .traddr = Attr(root, dir + "/addr_traddr"), .trsvcid = Attr(root, dir + "/addr_trsvcid"),
                   .subsystems = Names(root, dir + "/subsystems")};
}

}  // namespace

absl::StatusOr<NvmetConfig> ReadNvmetConfig(const SysRoot& root) {
  NvmetConfig c;
  if (!root.Exists(kNvmetConfigfs)) return c;
  c.present = true;
  CMB_ASSIGN_OR_RETURN(std::vector<std::string> nqns, root.List(absl::StrCat(kNvmetConfigfs, "/subsystems")));
  for (const std::string& nqn : nqns) {
    CMB_ASSIGN_OR_RETURN(NvmetSubsystem s, ReadSubsystem(root, nqn));
    c.subsystems.push_back(std::move(s));
  }
  for (const std::string& id : Names(root, absl::StrCat(kNvmetConfigfs, "/ports"))) c.ports.push_back(ReadPort(root, id));
  return c;
}

namespace {

struct Backing {
  const Controller* controller = nullptr;
  const Namespace* ns = nullptr;
  std::string problem{};  // why there is no PCIe NVMe namespace behind the path
  bool multipath_head = false;
};

// find_parent_pci_dev() from the disk's device: the first ancestor directory
// that is a PCI function (named by its address, with a config file).
bool HasPciAncestor(const SysRoot& root, const std::string& disk) {
  absl::StatusOr<std::string> dev = root.Resolve("/sys/class/block/" + disk);
  if (!dev.ok()) dev = root.Resolve("/sys/block/" + disk);
  if (!dev.ok()) return false;
  for (std::string d = *dev; d.size() > 1; d = d.substr(0, d.rfind('/'))) {
    if (PciAddress::Parse(d.substr(d.rfind('/') + 1)).ok() && root.Exists(d + "/config")) return true;
  }
  return false;
}

// The NVMe namespace behind `path` (its block device, or a link to it).
Backing FindBacking(const SysRoot& root, const System& sys, const std::string& path) {
  if (path.empty()) return {.problem = "the namespace has no device_path"};
  absl::StatusOr<std::string> real = root.Resolve(path);
  for (const Controller& c : sys.controllers)
    for (const Namespace& n : c.namespaces)
      if (n.block_device == path || (real.ok() && n.block_device == *real)) {
        if (!c.address)
          return {.problem = absl::StrCat(path, " is a namespace of ", c.name, ", a ", c.transport,
                                          " controller: nvmet stages p2pmem only for a PCIe device")};
        if (!HasPciAncestor(root, n.name))
          return {.problem = absl::StrCat(path, " is a native multipath head (its disk is under /sys/devices/virtual), "
                                                "not a PCI device, so the kernel finds no distance to any p2pmem"),
                  .multipath_head = true};
        return {.controller = &c, .ns = &n};
      }
  struct stat st {};
  if (!real.ok() || ::stat(root.Host(*real).c_str(), &st) != 0)
    return {.problem = absl::StrCat(path, " does not exist")};
  if (S_ISREG(st.st_mode))
    return {.problem = absl::StrCat(path, " is a file: the kernel uses p2pmem only for block device namespaces")};
  return {.problem = absl::StrCat(path, " is not an NVMe PCIe namespace: the kernel needs a block device whose "
                                        "driver supports P2PDMA")};
}

// A named provider: the kernel's distance check from the backing device.
void AcceptNamed(const SysRoot& root, const PlatformFacts& platform, const PciAddress& provider,
                 const Controller& backing, NvmetP2pPrediction& p) {
  p.provider = provider;
  absl::StatusOr<P2pPath> path = PredictP2pPath(root, platform, provider, *backing.address);
  if (!path.ok()) {
    p.accepted = false, p.accepted_reason = std::string(path.status().message());
  } else if (path->verdict == PathVerdict::kUnknown) {
    p.accepted_reason = absl::StrCat("unknown without root: ", path->reason);
  } else {
    p.accepted = PathAllowed(path->verdict);
    p.accepted_reason = absl::StrCat(*p.accepted ? "" : "enabling fails with EINVAL: ", provider.ToString(), " -> ",
                                     backing.name, " ", PathVerdictName(path->verdict), ": ", path->reason);
  }
}

// "1": pci_p2pmem_find() picks a published provider the backing device
// reaches, the closest (at random among equals).
void AcceptAny(const SysRoot& root, const System& sys, const PlatformFacts& platform, const Controller& backing,
               NvmetP2pPrediction& p) {
  int best = -1, ties = 0;
  bool unknown = false;
  for (size_t i : sys.Providers()) {
    absl::StatusOr<P2pPath> path = PredictP2pPath(root, platform, *sys.controllers[i].address, *backing.address);
    if (!path.ok()) continue;
    unknown |= path->verdict == PathVerdict::kUnknown;
    if (!PathAllowed(path->verdict)) continue;
    if (best < 0 || path->distance < best) best = path->distance, ties = 0, p.provider = path->provider;
    if (path->distance == best) ++ties;
  }
  if (best >= 0) {
    p.accepted = true;
    p.accepted_reason = absl::StrCat(ties > 1 ? "the kernel picks one of the closest published CMBs, e.g. " : "the kernel picks the closest published CMB, ",
                                     p.provider->ToString(), " (distance ", best, " from ", backing.name, ")");
  } else if (unknown) {
    p.accepted_reason = "unknown without root: the verdicts toward the published CMBs need the ACS bits";
  } else {
    p.accepted = false;
    p.accepted_reason = absl::StrCat("enabling fails with EINVAL: no published p2pmem is reachable from ", backing.name);
  }
}

// nvmet_p2pmem_ns_add_p2p(): only a controller with a P2P client, which only
// nvmet-rdma sets (for an RDMA device that is a PCI function).
void PredictUse(const NvmetConfig& config, const NvmetNamespace& ns, NvmetP2pPrediction& p) {
  if (!ns.p2pmem_on()) {
    p.used = false, p.used_reason = "p2pmem is off for this namespace";
    return;
  }
  std::vector<const NvmetPort*> ports = config.PortsOf(ns.subsystem);
  if (ports.empty()) {
    p.used = false, p.used_reason = absl::StrCat("no port exports ", ns.subsystem);
    return;
  }
  std::vector<std::string> ignoring, rdma;
  for (const NvmetPort* port : ports)
    (port->trtype == "rdma" ? rdma : ignoring).push_back(absl::StrCat("port ", port->id, " (", port->trtype, ")"));
  std::string ignored = ignoring.empty() ? "" : absl::StrCat(absl::StrJoin(ignoring, ", "),
                                                           ": only nvmet-rdma stages data in p2pmem; ",
                                                           "the other transports ignore it");
  if (rdma.empty()) {
    p.used = false, p.used_reason = ignored;
    return;
  }
  p.used_reason = absl::StrCat(absl::StrJoin(rdma, ", "),
                               ": nvmet-rdma uses it when its RDMA device is a PCI function (a hardware RNIC; "
                               "not soft RoCE or siw)", ignored.empty() ? "" : "; ", ignored);
}

}  // namespace

NvmetP2pPrediction PredictNvmetP2p(const SysRoot& root, const System& sys, const PlatformFacts& platform,
                                   const NvmetConfig& config, const NvmetNamespace& ns) {
  NvmetP2pPrediction p;
  PredictUse(config, ns, p);
  if (!ns.p2pmem_raw) {
    p.accepted_reason = "no p2pmem attribute: the kernel was built without CONFIG_PCI_P2PDMA";
    return p;
  }
  if (!ns.p2pmem_on()) {
    p.accepted_reason = "p2pmem is off (0)";
    return p;
  }
  Backing b = FindBacking(root, sys, ns.device_path);
  if (!b.controller) {
    p.accepted = false, p.accepted_reason = absl::StrCat("enabling fails with EINVAL: ", b.problem);
    p.provider = ns.p2pmem_device();
    // Without native multipath, /dev/nvmeXnY is the controller's own disk, under its PCI function.
    if (b.multipath_head)
      p.fixes.push_back({.kind = Fix::Kind::kBootParameter, .module = "nvme_core", .parameter = "multipath",
                         .value = "N"});
    return p;
  }
  if (std::optional<PciAddress> named = ns.p2pmem_device()) AcceptNamed(root, platform, *named, *b.controller, p);
  else AcceptAny(root, sys, platform, *b.controller, p);
  return p;
}

}  // namespace cmb
