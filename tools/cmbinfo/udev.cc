#include "udev.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "report.h"

namespace cmbinfo {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitNoNvme = 3;

void Grant(const char* key, const cmb::AccessDecision& d) {
  std::printf("%s=%s\n%s_WHY=%s\n", key, d.granted ? "yes" : "no", key, d.reason.c_str());
}

// The CMB's size, pool and the controllers the kernel lets DMA to it.
void PrintCmb(const cmb::Controller& c, const std::vector<cmb::P2pPath>& paths) {
  std::printf("CMB_NVME=%s\n", c.name.c_str());
  if (c.cmb) std::printf("CMB_SIZE=%llu\n", static_cast<unsigned long long>(c.cmb->size_bytes));
  if (!c.p2pmem) {
    std::printf("CMB_P2PMEM=none\n");
    return;
  }
  std::printf("CMB_P2PMEM=%s\nCMB_P2PMEM_SIZE=%llu\nCMB_P2PMEM_ALLOCATE=%d\n",
              c.p2pmem->published ? "published" : "unpublished",
              static_cast<unsigned long long>(c.p2pmem->size_bytes), c.p2pmem->allocate ? 1 : 0);
  std::vector<std::string> ok, refused, unknown;
  for (const cmb::P2pPath& p : paths) {
    if (p.provider != *c.address || p.client == *c.address) continue;
    std::string client = p.client.ToString();
    switch (p.verdict) {
      case cmb::PathVerdict::kSwitch:
      case cmb::PathVerdict::kHostBridge: ok.push_back(client); break;
      case cmb::PathVerdict::kUnsupported: refused.push_back(client); break;
      default: unknown.push_back(client); break;
    }
  }
  // udev property values: space-separated lists, no quoting needed for BDFs.
  std::printf("CMB_P2P_CLIENTS=%s\nCMB_P2P_REFUSED=%s\nCMB_P2P_UNKNOWN=%s\n", absl::StrJoin(ok, " ").c_str(),
              absl::StrJoin(refused, " ").c_str(), absl::StrJoin(unknown, " ").c_str());
}

// The controller's p2pmem/allocate: where it is, and whether the group gets it.
void PrintP2pMemGrant(const cmb::Controller& c, const cmb::AccessList& list) {
  if (!c.address || !c.p2pmem || !c.p2pmem->allocate) return;
  std::printf("CMB_PCI=%s\n", c.address->ToString().c_str());
  Grant("CMB_P2PMEM_GRANT", cmb::DecideP2pMemAccess(list, c));
}

}  // namespace

int PrintUdev(const cmb::SysRoot& root, const cmb::System& sys, const cmb::AccessList& list, const std::string& name) {
  if (absl::StatusOr<cmb::PciAddress> bdf = cmb::PciAddress::Parse(name); bdf.ok()) {
    const cmb::Controller* c = sys.FindByAddress(*bdf);
    if (c == nullptr) {
      std::fprintf(stderr, "cmbinfo: --udev %s: no NVMe controller there\n", name.c_str());
      return kExitNoNvme;
    }
    PrintCmb(*c, cmbtools::AllPaths(root, sys));
    Grant("CMB_GRANT", c->p2pmem ? cmb::DecideP2pMemAccess(list, *c)
                                 : cmb::AccessDecision{false, c->name + " has no p2pmem pool"});
    return kExitOk;
  }
  for (const cmb::Controller& c : sys.controllers) {
    if (c.name == name) {
      std::printf("CMB_NVME=%s\n", c.name.c_str());
      PrintP2pMemGrant(c, list);
      return kExitOk;
    }
    for (const cmb::Namespace& ns : c.namespaces) {
      if (ns.generic_device != "/dev/" + name) continue;
      std::printf("CMB_NVME=%s\nCMB_NAMESPACE=%s\n", c.name.c_str(), ns.name.c_str());
      Grant("CMB_GRANT", cmb::DecideNamespaceAccess(list, c, ns));
      PrintP2pMemGrant(c, list);
      return kExitOk;
    }
  }
  std::fprintf(stderr, "cmbinfo: --udev %s: no NVMe controller, namespace generic device or PCI address of that name\n",
               name.c_str());
  return kExitNoNvme;
}

}  // namespace cmbinfo
