// The nvmet view (nvmet_view.h).
#include "nvmet_view.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmb/p2p_path.h"
#include "fix_words.h"

namespace cmbtools {
namespace {

nlohmann::json Tristate(const std::optional<bool>& b) { return b ? nlohmann::json(*b) : nlohmann::json(); }

// "auto" for "1", the BDF, or null when off or absent.
nlohmann::json P2pMemValue(const cmb::NvmetNamespace& n) {
  if (!n.p2pmem_on()) return nullptr;
  return n.p2pmem_auto() ? nlohmann::json("auto") : nlohmann::json(*n.p2pmem_raw);
}

}  // namespace

nlohmann::json NvmetJson(const cmb::SysRoot& root, const cmb::System& sys, const cmb::NvmetConfig& config) {
  nlohmann::json ports = nlohmann::json::array(), subsystems = nlohmann::json::array(),
                 namespaces = nlohmann::json::array();
  for (const cmb::NvmetPort& p : config.ports)
    ports.push_back({{"id", p.id}, {"trtype", p.trtype}, {"adrfam", p.adrfam}, {"traddr", p.traddr},
                     {"trsvcid", p.trsvcid}, {"subsystems", p.subsystems}});
  const cmb::PlatformFacts platform = cmb::ReadPlatformFacts(root);
  for (const cmb::NvmetSubsystem& s : config.subsystems) {
    subsystems.push_back({{"nqn", s.nqn}, {"allow_any_host", s.allow_any_host}, {"allowed_hosts", s.allowed_hosts},
                          {"namespaces", s.namespaces.size()}});
    for (const cmb::NvmetNamespace& n : s.namespaces) {
      cmb::NvmetP2pPrediction p = cmb::PredictNvmetP2p(root, sys, platform, config, n);
      namespaces.push_back({{"subsystem", n.subsystem}, {"nsid", n.nsid}, {"device_path", n.device_path},
                            {"enabled", n.enabled}, {"p2pmem", P2pMemValue(n)},
                            {"p2pmem_provider", p.provider ? nlohmann::json(p.provider->ToString()) : nlohmann::json()},
                            {"p2pmem_ok", Tristate(p.accepted)},
                            {"p2pmem_ok_reason", WithFixes(p.accepted_reason, p.fixes)},
                            {"p2pmem_used", Tristate(p.used)}, {"p2pmem_used_reason", p.used_reason}});
    }
  }
  return {{"present", config.present}, {"ports", ports}, {"subsystems", subsystems}, {"namespaces", namespaces}};
}

void PrintNvmet(std::ostream& out, const cmb::SysRoot& root, const cmb::System& sys, const cmb::NvmetConfig& config) {
  if (!config.present) return;
  out << "\nNVMe-oF target (nvmet):\n";
  for (const cmb::NvmetPort& p : config.ports)
    out << absl::StrFormat("  port %s  %s %s:%s  exports %s\n", p.id, p.trtype, p.traddr, p.trsvcid,
                           p.subsystems.empty() ? "nothing" : absl::StrJoin(p.subsystems, ", "));
  const cmb::PlatformFacts platform = cmb::ReadPlatformFacts(root);
  for (const cmb::NvmetSubsystem& s : config.subsystems) {
    out << "  subsystem " << s.nqn << (s.allow_any_host ? "  (any host)" : "") << "\n";
    for (const cmb::NvmetNamespace& n : s.namespaces) {
      cmb::NvmetP2pPrediction p = cmb::PredictNvmetP2p(root, sys, platform, config, n);
      out << absl::StrFormat("    nsid %u  %s  %s  p2pmem %s\n", n.nsid, n.device_path.empty() ? "(no device)" : n.device_path,
                             n.enabled ? "enabled" : "disabled",
                             !n.p2pmem_raw ? "(none: no CONFIG_PCI_P2PDMA)" : n.p2pmem_auto() ? "auto" : *n.p2pmem_raw);
      if (!n.p2pmem_on()) continue;
      out << absl::StrFormat("      accepted: %s: %s\n", !p.accepted ? "unknown" : *p.accepted ? "yes" : "no",
                             WithFixes(p.accepted_reason, p.fixes));
      out << absl::StrFormat("      used: %s: %s\n", !p.used ? "depends" : *p.used ? "yes" : "no", p.used_reason);
    }
  }
}

}  // namespace cmbtools
