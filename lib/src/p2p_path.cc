// Mirrors calc_map_type_and_dist() of drivers/pci/p2pdma.c step by step
// (unchanged from 6.12 to 7.3.4 but for the whitelist, which kernel_rules.cc
// holds by release); comments name the kernel's variables.
#include "cmb/p2p_path.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cmb/pci_names.h"
#include "cmb/pci_topology.h"
#include "cmb/status_macros.h"

namespace cmb {
namespace {

std::string Join(const std::vector<PciAddress>& v, absl::string_view sep) {
  return absl::StrJoin(v, sep, [](std::string* out, const PciAddress& a) {
    out->append(a.ToString());
  });
}

enum class Tri { kNo, kYes, kUnknown };

struct HostBridgeCheck {
  Tri ok = Tri::kNo;
  std::string why;
};

// The whitelist entry that decides for a host bridge of vendor:device (the
// first that matches, as in __host_bridge_whitelist()), and the first entry
// this kernel lacks that a newer one has.
struct WhitelistHit {
  const WhitelistRule* hit = nullptr;
  const WhitelistRule* later = nullptr;
};

WhitelistHit FindWhitelistEntry(const KernelRules& rules, uint16_t vendor, uint16_t device) {
  WhitelistHit w;
  for (const WhitelistRule& e : KernelRules::AllWhitelist()) {
    if (!e.Matches(vendor, device)) continue;
    if (rules.Has(e) == RulePresence::kNo) {
      if (!w.later) w.later = &e;
      continue;
    }
    w.hit = &e;
    break;
  }
  return w;
}

// Without a 00.0 device only a Root Port first on the root bus counts
// (pci_host_bridge_dev()): why `first` does not count, or nullopt when it does.
std::optional<HostBridgeCheck> NotARootPort(const SysRoot& root, const std::string& host, const PciAddress& first,
                                            const std::string& id, bool whitelisted) {
  if (first.device == 0 && first.function == 0) return std::nullopt;
  absl::StatusOr<ConfigSpace> cfg = ReadConfigSpace(root, first);
  std::optional<uint8_t> type = cfg.ok() ? PcieType(cfg->bytes) : std::nullopt;
  if (!type && whitelisted)
    return HostBridgeCheck{Tri::kUnknown, absl::StrCat("cannot tell whether ", first.ToString(), " (", id,
                                                       ", whitelisted) is a Root Port without reading its config "
                                                       "space (needs root)")};
  if (type != kPcieTypeRootPort)
    return HostBridgeCheck{Tri::kNo,
                           absl::StrCat("host bridge ", host, " has no 00.0 device or Root Port first on its root bus")};
  return std::nullopt;
}

// __host_bridge_whitelist(): the first device on the host bridge's root bus,
// if it is devfn 00.0 or a Root Port, must be on the whitelist.
HostBridgeCheck HostBridgeWhitelisted(const SysRoot& root, const KernelRules& rules, const std::string& host,
                                      bool same_host_bridge) {
  absl::StatusOr<std::vector<PciAddress>> devs = RootBusDevices(root, host);
  if (!devs.ok() || devs->empty())
    return {Tri::kNo, absl::StrCat("host bridge ", host, " has no device on its root bus")};
  const PciAddress& first = devs->front();
  absl::StatusOr<PciNode> node = LookupPciNode(root, first);
  if (!node.ok()) return {Tri::kUnknown, std::string(node.status().message())};
  std::string id = PciDeviceLabel(root, node->vendor, node->device);  // named when pci.ids knows it
  WhitelistHit w = FindWhitelistEntry(rules, node->vendor, node->device);
  if (std::optional<HostBridgeCheck> no = NotARootPort(root, host, first, id, w.hit != nullptr)) return *no;
  std::string bridge = absl::StrCat("host bridge ", first.ToString(), " (", id);
  if (!w.hit)
    return {Tri::kNo, absl::StrCat(bridge, ") is not in the P2PDMA whitelist of Linux ", rules.rules_version,
                                   w.later ? absl::StrCat(" (", w.later->what, ": whitelisted ",
                                                          KernelRules::Arrival(*w.later),
                                                          ", so a newer kernel allows it)")
                                           : "")};
  if (rules.Has(*w.hit) == RulePresence::kMaybe)
    return {Tri::kUnknown, absl::StrCat(bridge, ", ", w.hit->what, ") is whitelisted ", KernelRules::Arrival(*w.hit),
                                        " from a point release cmb does not know: whether ", rules.release,
                                        " has it cannot be told from its version")};
  if (w.hit->same_host_bridge && !same_host_bridge)
    return {Tri::kNo, absl::StrCat(bridge, ") is whitelisted only for devices under the same host bridge")};
  return {Tri::kYes, absl::StrCat(bridge, ") is in the kernel's P2PDMA whitelist")};
}

// The walk of pci_upstream_bridge() from both ends, the devices themselves
// first: where the chains meet (under one host bridge), and the ACS state of
// every port the kernel checks on the way.
struct ChainWalk {
  std::vector<PciAddress> a, b;  // provider's and client's chains
  std::optional<size_t> common_a, common_b;
};

ChainWalk WalkChains(const SysRoot& root, const PciNode& pn, const PciNode& cn, P2pPath& p) {
  ChainWalk w{{p.provider}, {p.client}, std::nullopt, std::nullopt};
  w.a.insert(w.a.end(), pn.upstream.begin(), pn.upstream.end());
  w.b.insert(w.b.end(), cn.upstream.begin(), cn.upstream.end());
  auto note_acs = [&](const PciAddress& a) {
    AcsRead acs = ReadAcs(root, a);
    if (acs.state == AcsState::kRedirect) p.acs_redirect.push_back(a);
    if (acs.state == AcsState::kUnknown) p.acs_unknown.push_back(a);
  };
  // Outer loop over a (provider side); ACS counted on every a visited,
  // including the common bridge itself.
  for (size_t i = 0; i < w.a.size() && !w.common_a; ++i) {
    note_acs(w.a[i]);
    auto it = std::find(w.b.begin(), w.b.end(), w.a[i]);
    if (it != w.b.end() && pn.host_bridge == cn.host_bridge) {
      w.common_a = i;
      w.common_b = static_cast<size_t>(it - w.b.begin());
    }
  }
  // check_b_path_acs: b side below the common bridge.
  if (w.common_a)
    for (size_t j = 0; j < *w.common_b; ++j) note_acs(w.b[j]);
  return w;
}

// A shared upstream bridge: the verdict when ACS lets the pair through (or
// cannot be read); otherwise the reason so far, and false, for the host
// bridge to decide.
bool JudgeSharedBridge(const ChainWalk& w, P2pPath& p) {
  p.distance = static_cast<int>(*w.common_a + *w.common_b);
  p.common_bridge = w.a[*w.common_a];
  std::string where = *w.common_a == 0 && *w.common_b == 0
                          ? std::string("they are the same PCI function")
                          : absl::StrCat("they share the upstream bridge ", p.common_bridge->ToString());
  if (p.acs_redirect.empty() && p.acs_unknown.empty()) {
    p.verdict = PathVerdict::kSwitch;
    p.reason = absl::StrCat(where, " and no port in the path redirects P2P (ACS RR/CR/EC clear): "
                            "DMA goes straight to the provider's BAR, distance ", p.distance);
    return true;
  }
  if (p.acs_redirect.empty()) {
    p.verdict = PathVerdict::kUnknown;
    p.reason = absl::StrCat(where, ", but the ACS redirect bits of ", Join(p.acs_unknown, ", "),
                            " cannot be read without root");
    p.fix = "run as root (reading extended PCI config space needs CAP_SYS_ADMIN)";
    return true;
  }
  p.reason = absl::StrCat(where, ", but ACS redirect is set on ", Join(p.acs_redirect, ", "),
                          ", which sends P2P traffic up to the host bridge; ");
  p.fix = absl::StrCat("add the kernel parameter pci=disable_acs_redir=", Join(p.acs_redirect, ";"),
                       " (the IOMMU sets ACS redirect when enabled; iommu=off or disabling it also clears it)");
  return false;
}

// map_through_host_bridge: the verdict for a path that crosses the root complex.
void JudgeHostBridge(const SysRoot& root, const PlatformFacts& platform, const PciNode& pn, const PciNode& cn,
                     bool acs_redirects, P2pPath& p) {
  if (platform.amd_zen_or_newer) {
    p.verdict = PathVerdict::kHostBridge;
    absl::StrAppend(&p.reason, "the CPU (", platform.cpu,
                    ") is AMD Zen or newer, which the kernel trusts for P2P through the root complex");
    p.fix.clear();
    return;
  }
  const bool same_host = pn.host_bridge == cn.host_bridge;
  HostBridgeCheck a = HostBridgeWhitelisted(root, platform.kernel, pn.host_bridge, same_host);
  HostBridgeCheck b = same_host ? a : HostBridgeWhitelisted(root, platform.kernel, cn.host_bridge, false);
  if (a.ok == Tri::kYes && b.ok == Tri::kYes) {
    p.verdict = PathVerdict::kHostBridge;
    absl::StrAppend(&p.reason, a.why);
    if (!acs_redirects) p.fix.clear();
    return;
  }
  if (a.ok == Tri::kUnknown || b.ok == Tri::kUnknown) {
    p.verdict = PathVerdict::kUnknown;
    absl::StrAppend(&p.reason, a.ok == Tri::kUnknown ? a.why : b.why);
    p.fix = "run as root";
    return;
  }
  p.verdict = PathVerdict::kUnsupported;
  absl::StrAppend(&p.reason, a.ok == Tri::kYes ? b.why : a.why, ", and the CPU (", platform.cpu,
                  ") is not AMD Zen: the kernel refuses this pair (-", platform.kernel.unreachable_errno_name(), ", ",
                  platform.kernel.Describe(), ")");
}

}  // namespace

const char* PathVerdictName(PathVerdict v) {
  switch (v) {
    case PathVerdict::kSwitch: return "switch";
    case PathVerdict::kHostBridge: return "host_bridge";
    case PathVerdict::kUnsupported: return "unsupported";
    case PathVerdict::kUnknown: return "unknown";
  }
  return "unknown";
}

PlatformFacts ReadPlatformFacts(const SysRoot& root) {
  PlatformFacts p;
  p.kernel = KernelRules::ForRunning(root);
  absl::StatusOr<std::string> info = root.Read("/proc/cpuinfo");
  if (!info.ok()) return p;
  std::string vendor;
  int family = -1;
  for (absl::string_view line : absl::StrSplit(*info, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
    absl::string_view k = absl::StripAsciiWhitespace(kv.first);
    absl::string_view v = absl::StripAsciiWhitespace(kv.second);
    if (k == "vendor_id" && vendor.empty()) vendor = std::string(v);
    if (k == "cpu family" && family < 0 && !absl::SimpleAtoi(v, &family)) family = -1;
    if (line.empty() && !vendor.empty()) break;  // first CPU only, like cpu_data(0)
  }
  p.cpu = absl::StrFormat("%s family 0x%x", vendor.empty() ? "unknown CPU" : vendor, family < 0 ? 0 : family);
  p.amd_zen_or_newer = vendor == "AuthenticAMD" && family >= 0x17 && p.kernel.amd_zen_rule;
  return p;
}

absl::StatusOr<P2pPath> PredictP2pPath(const SysRoot& root, const PciAddress& provider,
                                       const PciAddress& client) {
  return PredictP2pPath(root, ReadPlatformFacts(root), provider, client);
}

absl::StatusOr<P2pPath> PredictP2pPath(const SysRoot& root, const PlatformFacts& platform,
                                       const PciAddress& provider, const PciAddress& client) {
  CMB_ASSIGN_OR_RETURN(PciNode pn, LookupPciNode(root, provider));
  CMB_ASSIGN_OR_RETURN(PciNode cn, LookupPciNode(root, client));
  P2pPath p;
  p.provider = provider;
  p.client = client;
  ChainWalk w = WalkChains(root, pn, cn, p);
  if (w.common_a) {
    if (JudgeSharedBridge(w, p)) return p;
    JudgeHostBridge(root, platform, pn, cn, /*acs_redirects=*/true, p);
    return p;
  }
  // No common upstream bridge: dist_a + dist_b are the full chain lengths.
  p.distance = static_cast<int>(w.a.size() + w.b.size());
  p.acs_redirect.clear();
  p.acs_unknown.clear();
  p.reason = absl::StrCat("they share no upstream bridge (provider under ",
                          pn.upstream.empty() ? pn.host_bridge : pn.upstream.back().ToString(), ", client under ",
                          cn.upstream.empty() ? cn.host_bridge : cn.upstream.back().ToString(),
                          "), so P2P must cross the host bridge; ");
  p.fix = "put the provider and the client behind one PCIe switch";
  JudgeHostBridge(root, platform, pn, cn, /*acs_redirects=*/false, p);
  return p;
}

}  // namespace cmb
