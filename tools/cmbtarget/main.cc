// cmbtarget: exports local NVMe namespaces through the kernel's NVMe-oF
// target (nvmet, configfs) over tcp, rdma or loop, with each namespace's
// p2pmem chosen and predicted first; takes an export down; saves and
// restores the whole configuration, p2pmem included. A thin front end over
// cmb/nvmet_setup.h.
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmb/discovery.h"
#include "cmb/namespace_spec.h"
#include "cmb/nvmet.h"
#include "cmb/nvmet_setup.h"
#include "cmb/p2p_path.h"
#include "cmb/sysroot.h"
#include "fix_words.h"
#include "nvmet_view.h"
#include "report.h"

namespace {

constexpr int kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitNotFound = 3, kExitRefused = 4;

void Usage(FILE* out) {
  std::fputs(R"(Usage: cmbtarget export [OPTIONS] NAMESPACE...
       cmbtarget remove NQN
       cmbtarget save FILE | restore FILE
       cmbtarget show [-o json]
Export local NVMe namespaces (nvme1:1, /dev/ng1n1, /dev/nvme1n1) through the
kernel's NVMe-oF target (nvmet) as one subsystem on a new port. Each
namespace's p2pmem (the CMB nvmet-rdma stages data in) is chosen and
predicted before configfs is written; what the kernel would refuse is refused.

export options:
  -t, --transport T     tcp (default), rdma or loop
  -a, --addr ADDR       address to listen on (tcp, rdma)
  -s, --trsvcid N       port number (default 4420)
  -n, --nqn NQN         the subsystem's NQN (default nqn.2014-08.org.nvmexpress:cmb:NAMES)
      --host HOSTNQN    a host allowed to connect (repeat for more)
      --allow-any-host  any host may connect (never the default)
      --p2pmem WHAT     none (default), auto (the closest CMB the backing device
                        reaches) or a CMB's PCI address
      --dry-run         print the plan and the predictions; write nothing
      --force           as root: export a namespace that is in use
  -o, --output FORMAT   text (default) or json
  -r, --root DIR        read sysfs/configfs under DIR (default $CMB_SYSFS_ROOT, else /)
  -h, --help, --version

remove NQN: disables and removes the subsystem, its port links, ports left
exporting nothing, and hosts no other subsystem allows.
save FILE: the whole nvmet configuration as JSON, p2pmem included.
restore FILE: writes it back (refused when a subsystem or port exists).

Exit status: 0 ok, 1 error, 2 usage, 3 a namespace or subsystem not found,
4 refused before writing (in use, exists, a p2pmem the kernel would refuse).
Writing configfs needs root.
)",
             out);
}

struct Options {
  std::string command;
  std::vector<std::string> args;
  cmb::NvmetExportRequest req;
  std::string p2pmem = "none";
  bool dry_run = false, json = false;
  cmb::SysRoot root = cmb::SysRoot::FromEnvironment();
};

int ExitFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return kExitUsage;
    case absl::StatusCode::kNotFound: return kExitNotFound;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kAlreadyExists: return kExitRefused;
    default: return kExitError;
  }
}

int Fail(const absl::Status& s, int code) {
  std::fprintf(stderr, "cmbtarget: %s\n", cmbtools::WithFixes(s).c_str());
  return code;
}

std::optional<int> Parse(int argc, char** argv, Options& o) {
  static const option kLong[] = {
      {"transport", required_argument, nullptr, 't'}, {"addr", required_argument, nullptr, 'a'},
      {"trsvcid", required_argument, nullptr, 's'},   {"nqn", required_argument, nullptr, 'n'},
      {"host", required_argument, nullptr, 'H'},      {"allow-any-host", no_argument, nullptr, 'A'},
      {"p2pmem", required_argument, nullptr, 'P'},    {"dry-run", no_argument, nullptr, 'D'},
      {"force", no_argument, nullptr, 'F'},           {"output", required_argument, nullptr, 'o'},
      {"root", required_argument, nullptr, 'r'},      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},         {nullptr, 0, nullptr, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "t:a:s:n:o:r:h", kLong, nullptr)) != -1) {
    switch (opt) {
      case 't': o.req.trtype = optarg; break;
      case 'a': o.req.traddr = optarg; break;
      case 's': o.req.trsvcid = optarg; break;
      case 'n': o.req.nqn = optarg; break;
      case 'H': o.req.hosts.push_back(optarg); break;
      case 'A': o.req.allow_any_host = true; break;
      case 'P': o.p2pmem = optarg; break;
      case 'D': o.dry_run = true; break;
      case 'F': o.req.force = true; break;
      case 'o': o.json = std::string(optarg) == "json"; if (!o.json && std::string(optarg) != "text") return kExitUsage; break;
      case 'r': o.root = cmb::SysRoot(optarg); break;
      case 'h': Usage(stdout); return kExitOk;
      case 'V': std::printf("cmbtarget %s\n", CMB_VERSION); return kExitOk;
      default: Usage(stderr); return kExitUsage;
    }
  }
  if (optind >= argc) {
    std::fprintf(stderr, "cmbtarget: no command (export, remove, save, restore, show)\n");
    return kExitUsage;
  }
  o.command = argv[optind];
  o.args.assign(argv + optind + 1, argv + argc);
  return std::nullopt;
}

// --p2pmem into the request.
absl::Status ParseP2pMem(const std::string& text, cmb::NvmetExportRequest& req) {
  if (text == "none") req.p2pmem = cmb::P2pMemChoice::kNone;
  else if (text == "auto") req.p2pmem = cmb::P2pMemChoice::kAuto;
  else {
    absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse(text);
    if (!a.ok()) return absl::InvalidArgumentError(absl::StrCat("--p2pmem \"", text, "\": none, auto or a PCI address"));
    req.p2pmem = cmb::P2pMemChoice::kDevice, req.p2pmem_device = *a;
  }
  return absl::OkStatus();
}

nlohmann::json PlanJson(const cmb::NvmetExportPlan& p, bool applied) {
  nlohmann::json ns = nlohmann::json::array();
  for (const cmb::NvmetExportNamespace& n : p.namespaces)
    ns.push_back({{"nsid", n.nsid}, {"device_path", n.device_path}, {"p2pmem", n.p2pmem == "0" ? nlohmann::json() : nlohmann::json(n.p2pmem)},
                  {"p2pmem_ok", n.prediction.accepted ? nlohmann::json(*n.prediction.accepted) : nlohmann::json()},
                  {"p2pmem_ok_reason", n.prediction.accepted_reason},
                  {"p2pmem_used", n.prediction.used ? nlohmann::json(*n.prediction.used) : nlohmann::json()},
                  {"p2pmem_used_reason", n.prediction.used_reason}});
  return {{"applied", applied}, {"nqn", p.nqn}, {"port", p.port_id}, {"trtype", p.trtype}, {"adrfam", p.adrfam},
          {"traddr", p.traddr}, {"trsvcid", p.trsvcid}, {"hosts", p.hosts}, {"allow_any_host", p.allow_any_host},
          {"namespaces", ns}, {"reasons", p.reasons}};
}

void PrintPlan(const cmb::NvmetExportPlan& p, bool applied) {
  std::cout << absl::StrFormat("%s %s on port %s (%s%s%s)\n", applied ? "exported" : "would export", p.nqn, p.port_id,
                               p.trtype, p.traddr.empty() ? "" : " " + p.traddr, p.trsvcid.empty() ? "" : ":" + p.trsvcid);
  std::cout << "  hosts: " << (p.allow_any_host ? "any" : absl::StrJoin(p.hosts, ", ")) << "\n";
  for (const cmb::NvmetExportNamespace& n : p.namespaces)
    std::cout << absl::StrFormat("  nsid %u  %s  p2pmem %s\n", n.nsid, n.device_path, n.p2pmem == "0" ? "none" : n.p2pmem);
  for (const std::string& r : p.reasons) std::cout << "  " << r << "\n";
}

int Export(Options& o) {
  if (o.args.empty()) return Fail(absl::InvalidArgumentError("export: name at least one namespace"), kExitUsage);
  if (absl::Status s = ParseP2pMem(o.p2pmem, o.req); !s.ok()) return Fail(s, kExitUsage);
  absl::StatusOr<cmb::System> sys = cmb::Discover(o.root);
  if (!sys.ok()) return Fail(sys.status(), kExitError);
  std::vector<std::string> names;
  for (const std::string& spec : o.args) {
    absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(o.root, *sys, spec);
    if (!r.ok()) return Fail(r.status(), ExitFor(r.status()));
    o.req.namespaces.push_back(*r->ns);
    names.push_back(r->ns->name);
  }
  if (o.req.nqn.empty()) o.req.nqn = "nqn.2014-08.org.nvmexpress:cmb:" + absl::StrJoin(names, "-");
  absl::StatusOr<cmb::NvmetConfig> config = cmb::ReadNvmetConfig(o.root);
  if (!config.ok()) return Fail(config.status(), kExitError);
  absl::StatusOr<cmb::NvmetExportPlan> plan =
      cmb::PlanNvmetExport(o.root, *sys, cmb::ReadPlatformFacts(o.root), *config, o.req);
  if (!plan.ok()) return Fail(plan.status(), ExitFor(plan.status()));
  if (!o.dry_run) {
    if (absl::Status s = cmb::ApplyNvmetExport(o.root, *plan); !s.ok()) return Fail(s, kExitError);
  }
  if (o.json) std::cout << cmbtools::Dump(PlanJson(*plan, !o.dry_run)) << "\n";
  else PrintPlan(*plan, !o.dry_run);
  return kExitOk;
}

}  // namespace

namespace cmbtarget {
int SaveRestoreShow(const std::string& command, const std::vector<std::string>& args, const cmb::SysRoot& root,
                    bool json);
}  // namespace cmbtarget

int main(int argc, char** argv) {
  Options o;
  if (std::optional<int> done = Parse(argc, argv, o)) return *done;
  if (o.command == "export") return Export(o);
  if (o.command == "remove") {
    if (o.args.size() != 1) return Fail(absl::InvalidArgumentError("remove: name one subsystem NQN"), kExitUsage);
    absl::StatusOr<cmb::NvmetConfig> config = cmb::ReadNvmetConfig(o.root);
    if (!config.ok()) return Fail(config.status(), kExitError);
    absl::Status s = cmb::RemoveNvmetExport(o.root, *config, o.args[0]);
    if (!s.ok()) return Fail(s, s.code() == absl::StatusCode::kNotFound ? kExitNotFound : kExitError);
    std::cout << "removed " << o.args[0] << "\n";
    return kExitOk;
  }
  if (o.command == "save" || o.command == "restore" || o.command == "show")
    return cmbtarget::SaveRestoreShow(o.command, o.args, o.root, o.json);
  std::fprintf(stderr, "cmbtarget: unknown command '%s' (export, remove, save, restore, show)\n", o.command.c_str());
  return kExitUsage;
}
