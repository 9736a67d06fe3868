// cmbinfo: which NVMe controllers have a CMB, whether the kernel published it
// as p2pmem, and which devices can do peer-to-peer DMA with it, and why not.
// A thin front end over cmb::Discover() and cmb::PredictP2pPath().
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <utility>

#include "dot.h"
#include "fix_words.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmb/access_list.h"
#include "cmb/discovery.h"
#include "cmb/fabric_path.h"
#include "cmb/kernel_rules.h"
#include "cmb/namespace_spec.h"
#include "cmb/own_cmb.h"
#include "cmb/p2p_path.h"
#include "cmb/pci_names.h"
#include "cmb/sysroot.h"
#include "fio_recipe.h"
#include "nvmet_view.h"
#include "pci_tree.h"
#include "probe.h"
#include "report.h"
#include "udev.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNoNvme = 3;

void Usage(FILE* out) {
  std::fprintf(out,
R"(Usage: cmbinfo [OPTIONS]
Show NVMe controllers, their Controller Memory Buffers (CMB), the kernel's
p2pmem pools, namespaces, and which devices can do peer-to-peer DMA through
each CMB (predicting the kernel's drivers/pci/p2pdma.c decision).

Options:
  -o, --output FORMAT   text (default), json (schema: docs/json-schema.md) or
                        dot: the PCIe tree, CMBs, namespaces and P2P verdicts as a
                        Graphviz graph (cmbinfo -o dot | dot -Tsvg > tree.svg)
  -v, --verbose         every CMB register field, ACS state, P2P fixes, a fio recipe per CMB
  -t, --topology        the PCIe tree above every NVMe controller
  -r, --root DIR        read sysfs/proc/dev under DIR instead of /
                        (default: $CMB_SYSFS_ROOT, else /)
      --devices FILE    the list of namespaces group '%s' may use
                        (default %s; cmb-devices(5))
      --udev NAME       KEY=VALUE lines for udev's IMPORT{program} about NAME:
                        a PCI address (BDF), a controller (nvme0) or a generic
                        device (ng0n1), with the group's grant (CMB_GRANT) and why
      --probe           prove P2P reads on this machine, without writing: every
                        namespace whose controller the kernel lets reach a CMB
                        reads --bytes into that CMB and into host memory, and
                        the two must match (CRC-32C); refused pairs are listed
      --bytes SIZE      how much each pair reads (default 4M; capped at the
                        namespace and the free p2pmem)
      --path PATH       passthrough (/dev/ngXnY) or block (/dev/nvmeXnY, O_DIRECT);
                        default passthrough, or block where only it may be opened
      --report          a summary to paste into a bug report or the compatibility
                        list: no serial numbers, namespace IDs or mount points
                        (with --probe, the proof's results too)
  -h, --help            this text
      --version         version

Exit status: 0 ok, 1 error, 2 usage error, 3 no NVMe controller found,
5 (--probe) the bytes read through a CMB differ from those read through host memory.
ACS redirect bits live in extended PCI config space, which only root can read:
unprivileged, switch paths show verdict "unknown" instead of a guess.
)", CMB_GROUP, cmb::DefaultAccessListPath());
}

std::string Flag(bool on, const char* name) { return on ? name : "-"; }

void PrintCmb(const cmb::Controller& c, bool verbose) {
  if (c.cmb) {
    const cmb::CmbRegisters& r = *c.cmb;
    std::cout << absl::StrFormat("  CMB      %s at offset %s of BAR%u; %s %s %s %s %s\n",
                                 cmbtools::HumanBytes(r.size_bytes), cmbtools::HumanBytes(r.offset_bytes),
                                 r.loc.bir, Flag(r.sz.sqs, "SQS"), Flag(r.sz.cqs, "CQS"),
                                 Flag(r.sz.lists, "LISTS"), Flag(r.sz.rds, "RDS"), Flag(r.sz.wds, "WDS"));
    if (verbose) {
      std::cout << absl::StrFormat(
          "           CMBLOC 0x%08x: BIR=%u CQMMS=%d CQPDS=%d CDPMLS=%d CDPCILS=%d CDMMMS=%d CQDA=%d OFST=%u\n",
          r.cmbloc_raw, r.loc.bir, r.loc.cqmms, r.loc.cqpds, r.loc.cdpmls, r.loc.cdpcils, r.loc.cdmmms,
          r.loc.cqda, r.loc.ofst);
      std::cout << absl::StrFormat(
          "           CMBSZ  0x%08x: SQS=%d CQS=%d LISTS=%d RDS=%d WDS=%d SZU=%u (%s units) SZ=%u\n",
          r.cmbsz_raw, r.sz.sqs, r.sz.cqs, r.sz.lists, r.sz.rds, r.sz.wds, r.sz.szu,
          cmbtools::HumanBytes(r.unit_bytes), r.sz.sz);
    }
    if (!(r.sz.rds && r.sz.wds))
      std::cout << "           no RDS+WDS: the kernel will not publish it for data (queues only)\n";
  } else {
    std::cout << "  CMB      " << (c.cmb_note.empty() ? "none" : c.cmb_note) << "\n";
  }
}

void PrintP2pMem(const cmb::Controller& c, const cmb::AccessList& list) {
  if (c.p2pmem) {
    const cmb::P2pMem& m = *c.p2pmem;
    std::cout << absl::StrFormat("  p2pmem   %s, %s, %s available, userspace allocation %s\n",
                                 m.published ? "published" : "NOT published", cmbtools::HumanBytes(m.size_bytes),
                                 cmbtools::HumanBytes(m.available_bytes),
                                 m.allocate ? "yes"
                                            : absl::StrCat("no (kernel < ", cmb::KernelSince::kP2pmemAllocate.ToString(),
                                                           " or no CONFIG_PCI_P2PDMA)"));
    if (m.allocate) {
      cmb::AccessDecision d = cmb::DecideP2pMemAccess(list, c);
      std::cout << absl::StrFormat("           group %s may allocate: %s: %s\n", CMB_GROUP, d.granted ? "yes" : "no",
                                   d.reason);
    }
  } else if (c.cmb) {
    std::cout << "  p2pmem   none: "
              << (c.p2pmem_note.empty() ? "the kernel did not register this CMB for P2PDMA" : c.p2pmem_note) << "\n";
  }
}

void PrintNamespace(const cmb::Controller& c, const cmb::Namespace& n, const cmb::AccessList& list) {
  std::vector<std::string> use;
  for (const std::string& m : n.system_mounts) use.push_back("holds " + m);
  use.insert(use.end(), n.mountpoints.begin(), n.mountpoints.end());
  for (const std::string& w : n.swaps) use.push_back("swap " + w);
  for (const std::string& h : n.holders) use.push_back("held by " + h);
  std::cout << absl::StrFormat("  %-8s nsid %u  %s  %u B LBAs x %u (%s)  max transfer %s%s%s\n", n.name, n.nsid,
                               n.generic_device.empty() ? "(no generic device)" : n.generic_device, n.lba_size,
                               n.capacity_blocks, cmbtools::HumanBytes(n.capacity_blocks * n.lba_size),
                               cmbtools::HumanBytes(n.max_transfer_bytes),
                               use.empty() ? "" : absl::StrCat("  IN USE: ", absl::StrJoin(use, ", ")),
                               n.use_unknown.empty() ? "" : "  USE UNKNOWN: " + n.use_unknown);
  cmb::AccessDecision d = cmb::DecideNamespaceAccess(list, c, n);
  std::cout << absl::StrFormat("           group %s: %s: %s\n", CMB_GROUP, d.granted ? "yes" : "no", d.reason);
}

// A fabrics controller's connection: where it leads, how long the host keeps
// reconnecting, and for RDMA the local RDMA device.
void PrintFabric(const cmb::FabricInfo& f) {
  std::string where = f.traddr.empty() ? "" : absl::StrCat("  ", f.traddr, f.trsvcid.empty() ? "" : ":", f.trsvcid);
  std::string local = !f.src_addr.empty() ? absl::StrCat("  from ", f.src_addr)
                      : !f.host_traddr.empty() ? absl::StrCat("  from ", f.host_traddr)
                                               : "";
  std::string loss = f.reconnects_forever ? "reconnects forever"
                     : f.ctrl_loss_tmo_s  ? absl::StrCat("ctrl_loss_tmo ", *f.ctrl_loss_tmo_s, " s")
                                          : "";
  std::cout << absl::StrFormat("  fabric  %s%s%s  state %s%s\n", f.subsysnqn, where, local,
                               f.state.empty() ? "?" : f.state, loss.empty() ? "" : absl::StrCat(", ", loss));
  if (f.rnic)
    std::cout << absl::StrFormat("  RDMA    %s %s (%s)\n", f.rnic->ib_device,
                                 f.rnic->address ? f.rnic->address->ToString() : "no PCI function", f.rnic->how);
  else if (!f.rnic_note.empty())
    std::cout << "  RDMA    unknown: " << f.rnic_note << "\n";
}

void PrintController(const cmb::SysRoot& root, const cmb::Controller& c, const cmb::AccessList& list,
                     bool verbose) {
  std::string link = c.link_speed.empty() ? "" : absl::StrCat("  link ", c.link_speed, " x", c.link_width);
  std::string iommu = c.iommu_domain.empty() ? "" : absl::StrCat("  iommu ", c.iommu_domain);
  std::cout << absl::StrFormat("%s  %s  %s  serial %s  fw %s%s%s\n", c.name,
                               c.address ? c.address->ToString() : c.transport, c.model, c.serial,
                               c.firmware, link, iommu);
  if (c.address && (c.pci_vendor || c.pci_device))  // named as lspci names it, when pci.ids is there
    std::cout << "  PCI      " << cmb::PciDeviceLabel(root, c.pci_vendor, c.pci_device) << "\n";
  if (c.fabric) PrintFabric(*c.fabric);
  PrintCmb(c, verbose);
  PrintP2pMem(c, list);
  for (const cmb::Namespace& n : c.namespaces) PrintNamespace(c, n, list);
  if (c.namespaces.empty()) std::cout << "  (no namespaces)\n";
}

// For each fabrics controller: whether its namespaces can take P2P memory,
// and through which device.
void PrintFabricPaths(const cmb::System& sys, const std::vector<cmb::FabricPath>& paths) {
  bool any = false;
  for (const cmb::Controller& c : sys.controllers) {
    if (!c.fabric) continue;
    if (!std::exchange(any, true)) std::cout << "\nFabrics (P2P through a CMB to NVMe over Fabrics namespaces):\n";
    cmb::FabricClient f = cmb::JudgeFabricClient(sys.rules, c);
    std::cout << absl::StrFormat("  %-6s %-5s %s %s\n", c.name, c.transport, f.eligible ? "eligible" : "no", f.reason);
    if (!f.fix.empty()) std::cout << absl::StrFormat("%15s fix: %s\n", "", f.fix);
    for (const cmb::FabricPath& p : paths)
      if (p.client.controller == c.name && p.path) {
        const cmb::Controller* prov = sys.FindByAddress(p.provider);
        std::cout << absl::StrFormat("%15s %s -> %s %s: %s\n", "", prov ? prov->name : p.provider.ToString(),
                                     p.client.dma_client->ToString(), cmb::PathVerdictName(p.path->verdict),
                                     p.path->reason);
      }
  }
}

void PrintPaths(const cmb::System& sys, const std::vector<cmb::P2pPath>& paths, bool verbose) {
  if (sys.Providers().empty()) {
    std::cout << "\nNo published p2pmem provider: nothing can do P2P DMA through a CMB here.\n";
    return;
  }
  std::cout << "\nP2P paths (provider CMB -> client doing DMA):\n";
  for (const cmb::P2pPath& p : paths) {
    const cmb::Controller* prov = sys.FindByAddress(p.provider);
    const cmb::Controller* cl = sys.FindByAddress(p.client);
    std::cout << absl::StrFormat("  %-6s -> %-6s %-11s dist %-2d %s\n", prov ? prov->name : "?", cl ? cl->name : "?",
                                 cmb::PathVerdictName(p.verdict), p.distance, p.reason);
    if (!p.fix.empty() && (verbose || p.verdict == cmb::PathVerdict::kUnsupported ||
                           p.verdict == cmb::PathVerdict::kUnknown))
      std::cout << absl::StrFormat("%31s fix: %s\n", "", p.fix);
    if (prov && p.provider == p.client) {
      cmb::OwnCmbVerdict v = cmb::PredictOwnCmb(sys.rules, *prov);
      std::cout << absl::StrFormat("%31s own CMB: %s: %s\n", "",
                                   v.outcome == cmb::OwnCmbOutcome::kFull   ? "commands of any size"
                                   : v.outcome == cmb::OwnCmbOutcome::kPage ? "one-page commands only"
                                                                            : "cmbcp proves it with a read",
                                   v.reason);
    }
  }
}

// How to measure P2P on this hardware with fio (reads only; docs/performance.md).
void PrintFioRecipes(const cmb::System& sys, const std::vector<cmb::P2pPath>& paths) {
  std::vector<std::string> recipes = cmbtools::FioRecipes(sys, paths);
  if (recipes.empty()) return;
  std::cout << "\nMeasure P2P reads into each CMB with fio (reads only; docs/performance.md):\n";
  for (const std::string& r : recipes) std::cout << "  " << r << "\n";
}

void PrintTopology(const cmbtools::PciTree& tree) {
  std::cout << "\nPCIe topology:\n";
  for (const cmbtools::TreeNode& n : tree.nodes) {
    if (n.kind == cmbtools::NodeKind::kHostBridge) {
      std::cout << "  " << n.id
                << (n.function ? absl::StrCat("  host bridge ", n.function->ToString(), " ", n.label) : "") << "\n";
      continue;
    }
    if (n.parent.empty()) continue;  // not a PCI function under a host bridge
    const cmb::Controller* c = n.controller;
    std::string what = c ? absl::StrCat(c->name, " (", n.label, ")",
                                        c->p2pmem && c->p2pmem->published ? " [CMB p2pmem]" : "")
                         : absl::StrCat("bridge ", n.label.empty() ? "?" : n.label, ", ", cmbtools::AcsText(n.acs));
    std::cout << std::string(2 + 2 * n.depth, ' ') << "`- " << n.id << "  " << what << "\n";
  }
}

struct Options {
  std::string output = "text";
  std::string udev;  // --udev NAME
  std::string devices = cmb::DefaultAccessListPath();
  bool verbose = false, topology = false, root_given = false;
  bool probe = false, report = false;
  cmb::ReadProofOptions proof;
  cmb::SysRoot root = cmb::SysRoot::FromEnvironment();
};

// --bytes and --path into `proof`; the exit status when the value is bad.
std::optional<int> ParseProofOption(int opt, const char* arg, cmb::ReadProofOptions& proof) {
  if (opt == 'B') {
    absl::StatusOr<uint64_t> n = cmb::ParseSize(arg);
    if (n.ok() && *n > 0) {
      proof.bytes = *n;
      return std::nullopt;
    }
    std::fprintf(stderr, "cmbinfo: --bytes '%s': %s\n", arg,
                 n.ok() ? "must be more than 0" : std::string(n.status().message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<cmb::DataPath> p = cmb::ParseDataPath(arg);
  if (p.ok()) {
    proof.path = *p;
    return std::nullopt;
  }
  std::fprintf(stderr, "cmbinfo: --path: %s\n", std::string(p.status().message()).c_str());
  return kExitUsage;
}

void PrintKernel(const cmb::System& sys) {
  std::cout << absl::StrFormat("Kernel %s: userspace P2PDMA %s (%s); %s\n",
                               sys.kernel.release.empty() ? "?" : sys.kernel.release,
                               cmb::SupportName(sys.kernel.p2pdma),
                               cmbtools::WithFixes(sys.kernel.evidence, sys.kernel.fixes),
                               sys.rules.Describe());
}

// The nvmet target's configfs tree; nullopt (said on stderr) when unreadable.
std::optional<cmb::NvmetConfig> Nvmet(const cmb::SysRoot& root) {
  absl::StatusOr<cmb::NvmetConfig> t = cmb::ReadNvmetConfig(root);
  if (t.ok()) return *t;
  std::cerr << "cmbinfo: the NVMe-oF target's configuration could not be read: " << t.status().message() << "\n";
  return std::nullopt;
}

// Options that do not go together; the exit status when some are given.
std::optional<int> CheckModes(const Options& o) {
  const char* bad = nullptr;
  if (o.report && o.output != "text") bad = "--report writes text; leave out -o";
  else if (o.probe && o.output == "dot") bad = "--probe writes text or json, not dot";
  else if ((o.probe || o.report) && !o.udev.empty()) bad = "--udev answers udev alone: leave out --probe and --report";
  else if (!o.probe && (o.proof.bytes != cmb::ReadProofOptions{}.bytes || o.proof.path))
    bad = "--bytes and --path size and route --probe's reads: add --probe";
  if (!bad) return std::nullopt;
  std::fprintf(stderr, "cmbinfo: %s\n", bad);
  return kExitUsage;
}

// --probe (with --report, the summary): the exit status of the proof.
int Probe(const Options& o, const cmb::System& sys, const std::vector<cmb::P2pPath>& paths) {
  if (o.report) {
    std::optional<cmbinfo::ProbeRun> run;
    if (o.probe) run = cmbinfo::RunProbes(sys, paths, o.proof, nullptr);
    cmbinfo::PrintReport(std::cout, o.root, sys, paths, run ? &*run : nullptr);
    return run ? cmbinfo::ProbeExit(*run) : kExitOk;
  }
  if (o.output == "json") {
    nlohmann::json j = cmbtools::ToJson(sys, paths);
    cmbinfo::ProbeRun run = cmbinfo::RunProbes(sys, paths, o.proof, nullptr);
    j["probe"] = cmbinfo::ProbeJson(run);
    std::cout << cmbtools::Dump(j) << "\n";
    return cmbinfo::ProbeExit(run);
  }
  PrintKernel(sys);
  cmbinfo::ProbeRun run{.bytes_asked = o.proof.bytes};
  cmbinfo::PrintProbeHeader(std::cout, run);
  run = cmbinfo::RunProbes(sys, paths, o.proof, &std::cout);
  cmbinfo::PrintProbeSummary(std::cout, run);
  return cmbinfo::ProbeExit(run);
}

// The options, or the exit status when cmbinfo is done (help, version, error).
std::optional<int> Parse(int argc, char** argv, Options& o) {
  static const option kLong[] = {
      {"output", required_argument, nullptr, 'o'}, {"verbose", no_argument, nullptr, 'v'},
      {"topology", no_argument, nullptr, 't'},     {"root", required_argument, nullptr, 'r'},
      {"help", no_argument, nullptr, 'h'},         {"version", no_argument, nullptr, 'V'},
      {"udev", required_argument, nullptr, 'U'},   {"devices", required_argument, nullptr, 'D'},
      {"probe", no_argument, nullptr, 'P'},        {"bytes", required_argument, nullptr, 'B'},
      {"path", required_argument, nullptr, 'A'},   {"report", no_argument, nullptr, 'R'},
      {nullptr, 0, nullptr, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "o:vtr:h", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'o': o.output = optarg; break;
      case 'v': o.verbose = true; break;
      case 't': o.topology = true; break;
      case 'r': o.root = cmb::SysRoot(optarg), o.root_given = true; break;
      case 'h': Usage(stdout); return kExitOk;
      case 'V': std::printf("cmbinfo %s\n", CMB_VERSION); return kExitOk;
      case 'U': o.udev = optarg; break;
      case 'D': o.devices = optarg; break;
      case 'P': o.probe = true; break;
      case 'R': o.report = true; break;
      case 'B':
      case 'A':
        if (std::optional<int> bad = ParseProofOption(opt, optarg, o.proof)) return bad;
        break;
      default: Usage(stderr); return kExitUsage;
    }
  }
  if (optind != argc) {
    std::fprintf(stderr, "cmbinfo: unexpected argument '%s'\n", argv[optind]);
    Usage(stderr);
    return kExitUsage;
  }
  // udev passes device properties as the environment: under it only an
  // explicit --root moves the tree.
  if (!o.udev.empty() && !o.root_given) o.root = cmb::SysRoot("/");
  if (o.output != "text" && o.output != "json" && o.output != "dot") {
    std::fprintf(stderr, "cmbinfo: unknown output format '%s' (use text, json or dot)\n", o.output.c_str());
    return kExitUsage;
  }
  return CheckModes(o);
}

// The access list's state: where it is, how many entries, what was wrong.
void PrintAccessList(const cmb::AccessList& list) {
  std::cout << absl::StrFormat("Group %s: may use what %s lists (%d entr%s)\n", CMB_GROUP, list.source,
                               list.entries.size(), list.entries.size() == 1 ? "y" : "ies");
  for (const std::string& w : list.warnings) std::cout << "  warning: " << w << "\n";
}

// The PCIe tree, with why a controller's place in it could not be read.
cmbtools::PciTree Tree(const cmb::SysRoot& root, const cmb::System& sys) {
  cmbtools::PciTree tree = cmbtools::BuildPciTree(root, sys);
  for (const std::string& e : tree.errors) std::cerr << "cmbinfo: " << e << "\n";
  return tree;
}

int PrintText(const Options& o, const cmb::System& sys, const std::vector<cmb::P2pPath>& paths,
              const cmb::AccessList& list) {
  PrintKernel(sys);
  if (!sys.kernel.iommus.empty())
    std::cout << "IOMMU " << absl::StrJoin(sys.kernel.iommus, ", ")
              << ": on. The kernel sets ACS redirect on every port that has ACS, which sends P2P through the "
                 "root complex (see the P2P paths below; pci=disable_acs_redir= undoes it per port)\n";
  PrintAccessList(list);
  if (sys.controllers.empty()) {
    std::cout << "No NVMe controller found (" << o.root.Host("/sys/class/nvme")
              << " is empty or missing): nothing to show.\n";
    return kExitNoNvme;
  }
  for (const cmb::Controller& c : sys.controllers) {
    std::cout << "\n";
    PrintController(o.root, c, list, o.verbose);
  }
  PrintPaths(sys, paths, o.verbose);
  PrintFabricPaths(sys, cmbtools::AllFabricPaths(o.root, sys));
  if (o.verbose) PrintFioRecipes(sys, paths);
  if (o.topology) PrintTopology(Tree(o.root, sys));
  if (std::optional<cmb::NvmetConfig> t = Nvmet(o.root)) cmbtools::PrintNvmet(std::cout, o.root, sys, *t);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (std::optional<int> done = Parse(argc, argv, o)) return *done;
  absl::StatusOr<cmb::System> sys = cmb::Discover(o.root);
  if (!sys.ok()) {
    std::fprintf(stderr, "cmbinfo: discovery failed: %s\n", cmbtools::WithFixes(sys.status()).c_str());
    return kExitError;
  }
  cmb::AccessList list = cmb::LoadAccessList(o.devices);
  if (!o.udev.empty()) return cmbinfo::PrintUdev(o.root, *sys, list, o.udev);
  std::vector<cmb::P2pPath> paths = cmbtools::AllPaths(o.root, *sys);
  if (o.probe || o.report) return sys->controllers.empty() ? kExitNoNvme : Probe(o, *sys, paths);
  if (o.output == "json") {
    nlohmann::json j = cmbtools::ToJson(*sys, paths);
    cmbtools::AddFabricPaths(j, *sys, cmbtools::AllFabricPaths(o.root, *sys));
    cmbtools::AddGroupAccess(j, *sys, list, CMB_GROUP);
    cmbtools::AddTopology(j, Tree(o.root, *sys));
    std::optional<cmb::NvmetConfig> t = Nvmet(o.root);
    j["nvmet"] = t ? cmbtools::NvmetJson(o.root, *sys, *t) : nlohmann::json();
    std::cout << cmbtools::Dump(j) << "\n";
    return sys->controllers.empty() ? kExitNoNvme : kExitOk;
  }
  if (o.output == "dot") {
    std::cout << cmbtools::ToDot(Tree(o.root, *sys), *sys, paths);
    return sys->controllers.empty() ? kExitNoNvme : kExitOk;
  }
  return PrintText(o, *sys, paths, list);
}
