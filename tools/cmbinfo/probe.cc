// cmbinfo --probe and --report (probe.h).
#include "probe.h"

#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/data_path.h"
#include "cmb/pci_names.h"
#include "fix_words.h"
#include "report.h"

namespace cmbinfo {
namespace {

std::string PairName(const cmb::ReadProofPair& p) {
  return absl::StrCat(p.provider_name, " CMB <- ", p.ns.name);
}

void PrintOutcome(std::ostream& out, const ProbeOutcome& o) {
  const cmb::ReadProofPair& p = o.pair;
  if (!p.tried()) {
    out << absl::StrFormat("  %-22s %s\n", PairName(p), p.skipped);
    return;
  }
  std::string how = absl::StrFormat("%s, %s commands%s", cmb::DataPathName(p.path),
                                    cmbtools::HumanBytes(p.command_bytes), p.own_cmb ? ", own CMB" : "");
  if (!o.proof) {
    out << absl::StrFormat("  %-22s %-8s ERROR (%s): %s\n", PairName(p), cmbtools::HumanBytes(p.bytes), how,
                           o.error);
  } else {
    const cmb::ReadProof& r = *o.proof;
    out << absl::StrFormat("  %-22s %-8s %-8s P2P %.1f MB/s, host %.1f MB/s (%s)\n", PairName(p),
                           cmbtools::HumanBytes(r.bytes), r.match ? "match" : "MISMATCH", r.p2p_mb_s(),
                           r.host_mb_s(), how);
    if (!r.match)
      out << absl::StrFormat("%27sCRC-32C through the CMB 0x%08x, through host memory 0x%08x\n", "", r.p2p_crc,
                             r.host_crc);
  }
  if (!p.note.empty()) out << absl::StrFormat("%27s%s\n", "", p.note);
}

int Count(const ProbeRun& run, bool (*pred)(const ProbeOutcome&)) {
  int n = 0;
  for (const ProbeOutcome& o : run.outcomes) n += pred(o);
  return n;
}
bool Tried(const ProbeOutcome& o) { return o.pair.tried(); }
bool Matched(const ProbeOutcome& o) { return o.proof && o.proof->match; }
bool Mismatched(const ProbeOutcome& o) { return o.proof && !o.proof->match; }
bool Failed(const ProbeOutcome& o) { return o.pair.tried() && !o.proof; }

}  // namespace

ProbeRun RunProbes(const cmb::System& sys, const std::vector<cmb::P2pPath>& paths,
                   const cmb::ReadProofOptions& options, std::ostream* text) {
  ProbeRun run{.bytes_asked = options.bytes};
  for (cmb::ReadProofPair& p : cmb::PlanReadProofs(sys, paths, options)) {
    ProbeOutcome o{.pair = std::move(p)};
    if (o.pair.tried()) {
      absl::StatusOr<cmb::ReadProof> r = cmb::ProveRead(o.pair);
      if (r.ok()) o.proof = *r;
      else o.error = cmbtools::WithFixes(r.status());
    }
    if (text) PrintOutcome(*text, o), text->flush();
    run.outcomes.push_back(std::move(o));
  }
  return run;
}

int ProbeExit(const ProbeRun& run) {
  if (Count(run, Failed) > 0) return 1;
  if (Count(run, Mismatched) > 0) return kExitMismatch;
  return 0;
}

void PrintProbeHeader(std::ostream& out, const ProbeRun& run) {
  out << "\nP2P read proof: each namespace read into a CMB by P2P DMA and into host memory, "
      << "compared by CRC-32C (reads only, up to " << cmbtools::HumanBytes(run.bytes_asked) << " a pair):\n";
}

void PrintProbeSummary(std::ostream& out, const ProbeRun& run) {
  const int tried = Count(run, Tried);
  if (run.outcomes.empty()) {
    out << "  nothing to probe: no published CMB and PCIe namespace pair\n";
  } else if (tried == 0) {
    out << "Nothing was read: the kernel allows P2P DMA for none of these pairs (the reasons above).\n";
  } else {
    out << absl::StrFormat("%d of %d pairs read: %d matched, %d mismatched, %d could not be read.\n", tried,
                           run.outcomes.size(), Count(run, Matched), Count(run, Mismatched), Count(run, Failed));
  }
  out << "Not proven: the write direction (a CMB to a namespace) needs a write. cmbcp --dry-run shows what a copy "
         "would do; docs/performance.md has a fio recipe to run on a scratch namespace.\n";
}

nlohmann::json ProbeJson(const ProbeRun& run) {
  nlohmann::json pairs = nlohmann::json::array();
  for (const ProbeOutcome& o : run.outcomes) {
    const cmb::ReadProofPair& p = o.pair;
    nlohmann::json j = {{"provider", p.provider.ToString()}, {"provider_name", p.provider_name},
                        {"client", p.client.ToString()},     {"client_name", p.client_name},
                        {"namespace", p.ns.name},            {"verdict", p.verdict},
                        {"own_cmb", p.own_cmb},              {"tried", p.tried()},
                        {"skipped", p.tried() ? nlohmann::json() : nlohmann::json(p.skipped)},
                        {"bytes", p.tried() ? nlohmann::json(p.bytes) : nlohmann::json()},
                        {"path", p.tried() ? nlohmann::json(cmb::DataPathName(p.path)) : nlohmann::json()},
                        {"command_bytes", p.tried() ? nlohmann::json(p.command_bytes) : nlohmann::json()},
                        {"note", p.note.empty() ? nlohmann::json() : nlohmann::json(p.note)},
                        {"match", o.proof ? nlohmann::json(o.proof->match) : nlohmann::json()},
                        {"p2p_mb_s", o.proof ? nlohmann::json(o.proof->p2p_mb_s()) : nlohmann::json()},
                        {"host_mb_s", o.proof ? nlohmann::json(o.proof->host_mb_s()) : nlohmann::json()},
                        {"p2p_crc32c", o.proof ? nlohmann::json(o.proof->p2p_crc) : nlohmann::json()},
                        {"host_crc32c", o.proof ? nlohmann::json(o.proof->host_crc) : nlohmann::json()},
                        {"error", o.error.empty() ? nlohmann::json() : nlohmann::json(o.error)}};
    pairs.push_back(std::move(j));
  }
  return {{"bytes", run.bytes_asked}, {"pairs", std::move(pairs)}, {"exit", ProbeExit(run)},
          {"write_direction", "not proven: it needs a write"}};
}

namespace {

void ReportController(std::ostream& out, const cmb::SysRoot& root, const cmb::Controller& c) {
  out << absl::StrFormat("- %s %s: %s, firmware %s%s\n", c.name, c.address ? c.address->ToString() : c.transport,
                         c.model, c.firmware,
                         c.link_speed.empty() ? "" : absl::StrCat(", link ", c.link_speed, " x", c.link_width));
  if (c.address && (c.pci_vendor || c.pci_device))
    out << "  - PCI: " << cmb::PciDeviceLabel(root, c.pci_vendor, c.pci_device) << "\n";
  if (c.cmb) {
    const cmb::CmbRegisters& r = *c.cmb;
    out << absl::StrFormat("  - CMB: %s in BAR%u, CMBLOC 0x%08x, CMBSZ 0x%08x\n", cmbtools::HumanBytes(r.size_bytes),
                           r.loc.bir, r.cmbloc_raw, r.cmbsz_raw);
  } else if (!c.cmb_note.empty()) {
    out << "  - CMB: " << c.cmb_note << "\n";
  }
  if (c.p2pmem)
    out << absl::StrFormat("  - p2pmem: %s, %s, allocate %s\n", c.p2pmem->published ? "published" : "not published",
                           cmbtools::HumanBytes(c.p2pmem->size_bytes), c.p2pmem->allocate ? "yes" : "no");
  for (const cmb::Namespace& n : c.namespaces)
    out << absl::StrFormat("  - %s: %u-byte LBAs, %s, max transfer %s\n", n.name, n.lba_size,
                           cmbtools::HumanBytes(n.capacity_blocks * n.lba_size),
                           cmbtools::HumanBytes(n.max_transfer_bytes));
}

}  // namespace

void PrintReport(std::ostream& out, const cmb::SysRoot& root, const cmb::System& sys,
                 const std::vector<cmb::P2pPath>& paths, const ProbeRun* run) {
  const cmb::PlatformFacts platform = cmb::ReadPlatformFacts(root);
  out << "### cmb report (cmbinfo " << CMB_VERSION << "; serial numbers and namespace IDs left out)\n\n";
  out << "- kernel " << (sys.kernel.release.empty() ? "?" : sys.kernel.release) << "; "
      << sys.rules.Describe() << "; userspace P2PDMA " << cmb::SupportName(sys.kernel.p2pdma) << "\n";
  out << "- CPU " << (platform.cpu.empty() ? "?" : platform.cpu) << "; IOMMU "
      << (sys.kernel.iommus.empty() ? "off" : "on") << "\n\n";
  for (const cmb::Controller& c : sys.controllers) ReportController(out, root, c);
  out << "\nP2P verdicts:\n";
  for (const cmb::P2pPath& p : paths) {
    const cmb::Controller* prov = sys.FindByAddress(p.provider);
    const cmb::Controller* cl = sys.FindByAddress(p.client);
    out << absl::StrFormat("- %s -> %s: %s, distance %d\n", prov ? prov->name : p.provider.ToString(),
                           cl ? cl->name : p.client.ToString(), cmb::PathVerdictName(p.verdict), p.distance);
  }
  if (!run) {
    out << "\n(no read proof: add --probe)\n";
    return;
  }
  out << "\nRead proof (" << cmbtools::HumanBytes(run->bytes_asked) << " a pair):\n";
  for (const ProbeOutcome& o : run->outcomes) {
    if (!o.pair.tried()) continue;
    out << absl::StrFormat("- %s: %s\n", PairName(o.pair),
                           o.proof ? absl::StrFormat("%s, P2P %.1f MB/s, host %.1f MB/s, %s",
                                                     o.proof->match ? "match" : "MISMATCH", o.proof->p2p_mb_s(),
                                                     o.proof->host_mb_s(), cmb::DataPathName(o.pair.path))
                                   : absl::StrCat("error: ", o.error));
  }
}

}  // namespace cmbinfo
