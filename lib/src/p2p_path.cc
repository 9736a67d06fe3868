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

// __host_bridge_whitelist(): the first device on the host bridge's root bus,
// if it is devfn 00.0 or a Root Port, must be on the whitelist.
HostBridgeCheck HostBridgeWhitelisted(const SysRoot& root, const KernelRules& rules, const std::string& host,
                                      bool same_host_bridge) {
  HostBridgeCheck c;
  absl::StatusOr<std::vector<PciAddress>> devs = RootBusDevices(root, host);
  if (!devs.ok() || devs->empty()) {
    c.why = absl::StrCat("host bridge ", host, " has no device on its root bus");
    return c;
  }
  const PciAddress& first = devs->front();
  absl::StatusOr<PciNode> node = LookupPciNode(root, first);
  if (!node.ok()) {
    c.ok = Tri::kUnknown;
    c.why = std::string(node.status().message());
    return c;
  }
  std::string id = absl::StrFormat("%04x:%04x", node->vendor, node->device);
  // The first entry that matches decides, as in __host_bridge_whitelist().
  const WhitelistRule* hit = nullptr;
  const WhitelistRule* later = nullptr;  // an entry this kernel lacks, which a newer one has
  for (const WhitelistRule& e : KernelRules::AllWhitelist()) {
    if (!e.Matches(node->vendor, node->device)) continue;
    if (rules.Has(e) == RulePresence::kNo) {
      if (!later) later = &e;
      continue;
    }
    hit = &e;
    break;
  }
  if (first.device != 0 || first.function != 0) {
    // Only a Root Port counts when there is no 00.0 device (pci_host_bridge_dev()).
    absl::StatusOr<ConfigSpace> cfg = ReadConfigSpace(root, first);
    std::optional<uint8_t> type = cfg.ok() ? PcieType(cfg->bytes) : std::nullopt;
    if (!type && hit) {
      c.ok = Tri::kUnknown;
      c.why = absl::StrCat("cannot tell whether ", first.ToString(), " (", id,
                           ", whitelisted) is a Root Port without reading its config space (needs root)");
      return c;
    }
    if (type != kPcieTypeRootPort) {
      c.why = absl::StrCat("host bridge ", host, " has no 00.0 device or Root Port first on its root bus");
      return c;
    }
  }
  if (!hit) {
    c.why = absl::StrCat("host bridge ", first.ToString(), " (", id, ") is not in the P2PDMA whitelist of Linux ",
                         rules.rules_version,
                         later ? absl::StrCat(" (", later->what, ": whitelisted ", KernelRules::Arrival(*later),
                                              ", so a newer kernel allows it)")
                               : "");
    return c;
  }
  if (rules.Has(*hit) == RulePresence::kMaybe) {
    c.ok = Tri::kUnknown;
    c.why = absl::StrCat("host bridge ", first.ToString(), " (", id, ", ", hit->what, ") is whitelisted ",
                         KernelRules::Arrival(*hit), " from a point release cmb does not know: whether ",
                         rules.release, " has it cannot be told from its version");
    return c;
  }
  if (hit->same_host_bridge && !same_host_bridge) {
    c.why = absl::StrCat("host bridge ", first.ToString(), " (", id,
                         ") is whitelisted only for devices under the same host bridge");
    return c;
  }
  c.ok = Tri::kYes;
  c.why = absl::StrCat("host bridge ", first.ToString(), " (", id, ") is in the kernel's P2PDMA whitelist");
  return c;
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

  // The two chains pci_upstream_bridge() walks, the device itself first.
  std::vector<PciAddress> a_chain{provider}, b_chain{client};
  a_chain.insert(a_chain.end(), pn.upstream.begin(), pn.upstream.end());
  b_chain.insert(b_chain.end(), cn.upstream.begin(), cn.upstream.end());
  const bool same_host = pn.host_bridge == cn.host_bridge;

  auto note_acs = [&](const PciAddress& a) {
    AcsRead acs = ReadAcs(root, a);
    if (acs.state == AcsState::kRedirect) p.acs_redirect.push_back(a);
    if (acs.state == AcsState::kUnknown) p.acs_unknown.push_back(a);
  };

  // Outer loop over a (provider side); ACS counted on every a visited,
  // including the common bridge itself.
  std::optional<size_t> common_a, common_b;
  for (size_t i = 0; i < a_chain.size() && !common_a; ++i) {
    note_acs(a_chain[i]);
    auto it = std::find(b_chain.begin(), b_chain.end(), a_chain[i]);
    if (it != b_chain.end() && same_host) {
      common_a = i;
      common_b = static_cast<size_t>(it - b_chain.begin());
    }
  }

  bool acs_redirects = false;
  if (common_a) {
    // check_b_path_acs: b side below the common bridge.
    for (size_t j = 0; j < *common_b; ++j) note_acs(b_chain[j]);
    p.distance = static_cast<int>(*common_a + *common_b);
    p.common_bridge = a_chain[*common_a];
    std::string where = *common_a == 0 && *common_b == 0
                            ? std::string("they are the same PCI function")
                            : absl::StrCat("they share the upstream bridge ", p.common_bridge->ToString());
    if (p.acs_redirect.empty() && p.acs_unknown.empty()) {
      p.verdict = PathVerdict::kSwitch;
      p.reason = absl::StrCat(where, " and no port in the path redirects P2P (ACS RR/CR/EC clear): "
                              "DMA goes straight to the provider's BAR, distance ", p.distance);
      return p;
    }
    if (p.acs_redirect.empty()) {
      p.verdict = PathVerdict::kUnknown;
      p.reason = absl::StrCat(where, ", but the ACS redirect bits of ", Join(p.acs_unknown, ", "),
                              " cannot be read without root");
      p.fix = "run as root (reading extended PCI config space needs CAP_SYS_ADMIN)";
      return p;
    }
    acs_redirects = true;
    p.reason = absl::StrCat(where, ", but ACS redirect is set on ", Join(p.acs_redirect, ", "),
                            ", which sends P2P traffic up to the host bridge; ");
    p.fix = absl::StrCat("add the kernel parameter pci=disable_acs_redir=", Join(p.acs_redirect, ";"),
                         " (the IOMMU sets ACS redirect when enabled; iommu=off or disabling it also clears it)");
  } else {
    // No common upstream bridge: dist_a + dist_b are the full chain lengths.
    p.distance = static_cast<int>(a_chain.size() + b_chain.size());
    p.acs_redirect.clear();
    p.acs_unknown.clear();
    p.reason = absl::StrCat("they share no upstream bridge (provider under ",
                            pn.upstream.empty() ? pn.host_bridge : pn.upstream.back().ToString(),
                            ", client under ",
                            cn.upstream.empty() ? cn.host_bridge : cn.upstream.back().ToString(),
                            "), so P2P must cross the host bridge; ");
    p.fix = "put the provider and the client behind one PCIe switch";
  }

  // map_through_host_bridge
  if (platform.amd_zen_or_newer) {
    p.verdict = PathVerdict::kHostBridge;
    absl::StrAppend(&p.reason, "the CPU (", platform.cpu,
                    ") is AMD Zen or newer, which the kernel trusts for P2P through the root complex");
    p.fix.clear();
    return p;
  }
  HostBridgeCheck a = HostBridgeWhitelisted(root, platform.kernel, pn.host_bridge, same_host);
  HostBridgeCheck b = same_host ? a : HostBridgeWhitelisted(root, platform.kernel, cn.host_bridge, false);
  if (a.ok == Tri::kYes && b.ok == Tri::kYes) {
    p.verdict = PathVerdict::kHostBridge;
    absl::StrAppend(&p.reason, a.why);
    if (!acs_redirects) p.fix.clear();
    return p;
  }
  if (a.ok == Tri::kUnknown || b.ok == Tri::kUnknown) {
    p.verdict = PathVerdict::kUnknown;
    absl::StrAppend(&p.reason, a.ok == Tri::kUnknown ? a.why : b.why);
    p.fix = "run as root";
    return p;
  }
  p.verdict = PathVerdict::kUnsupported;
  absl::StrAppend(&p.reason, a.ok == Tri::kYes ? b.why : a.why, ", and the CPU (", platform.cpu,
                  ") is not AMD Zen: the kernel refuses this pair (-", platform.kernel.unreachable_errno_name(), ", ",
                  platform.kernel.Describe(), ")");
  return p;
}

}  // namespace cmb
