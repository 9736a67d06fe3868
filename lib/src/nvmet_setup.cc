// nvmet set-up through configfs (nvmet_setup.h): plan, apply with rollback,
// remove, restore.
#include "cmb/nvmet_setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cmb/fix.h"
#include "cmb/status_macros.h"
#include "privilege.h"

namespace cmb {
namespace {

std::string Cfg(absl::string_view rest) { return absl::StrCat(kNvmetConfigfs, "/", rest); }

// configfs writes that remember what they created, so a failure part way can
// take it all back (rmdir and unlink in reverse order).
class ConfigfsWriter {
 public:
  explicit ConfigfsWriter(const SysRoot& root) : root_(root) {}
  ~ConfigfsWriter() {
    if (!committed_) Rollback();
  }
  absl::Status Mkdir(const std::string& path) {
    if (::mkdir(root_.Host(path).c_str(), 0755) != 0) return Errno("create", path);
    created_.push_back({path, false});
    return absl::OkStatus();
  }
  absl::Status Link(const std::string& target, const std::string& path) {
    if (::symlink(root_.Host(target).c_str(), root_.Host(path).c_str()) != 0) return Errno("link", path);
    created_.push_back({path, true});
    return absl::OkStatus();
  }
  absl::Status Write(const std::string& path, const std::string& value) {
    int fd = ::open(root_.Host(path).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Errno("open", path);
    const std::string line = value + "\n";
    ssize_t n = ::write(fd, line.data(), line.size());
    int err = errno;
    ::close(fd);
    if (n < 0) return Errno(absl::StrCat("write \"", value, "\" to"), path, err);
    return absl::OkStatus();
  }
  void Commit() { committed_ = true; }

 private:
  absl::Status Errno(absl::string_view what, const std::string& path, int err = errno) const {
    return absl::ErrnoToStatus(err, absl::StrCat(what, " ", path));
  }
  void Rollback() {
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      const std::string host = root_.Host(it->first);
      if (!it->second && it->first.find("/namespaces/") != std::string::npos) {
        int fd = ::open((host + "/enable").c_str(), O_WRONLY | O_CLOEXEC);  // disable before rmdir
        if (fd >= 0) (void)!::write(fd, "0\n", 2), ::close(fd);
      }
      if (it->second) ::unlink(host.c_str());
      else ::rmdir(host.c_str());
    }
  }
  const SysRoot& root_;
  std::vector<std::pair<std::string, bool>> created_;  // path, is a link
  bool committed_ = false;
};

std::string FreePortId(const NvmetConfig& config) {
  std::set<uint32_t> used;
  for (const NvmetPort& p : config.ports) {
    uint32_t id = 0;
    if (absl::SimpleAtoi(p.id, &id)) used.insert(id);
  }
  uint32_t id = 1;
  while (used.count(id)) ++id;
  return absl::StrCat(id);
}

// Transport, address family and address, with the defaults filled in.
absl::Status CheckTransport(const NvmetExportRequest& r, NvmetExportPlan& plan) {
  plan.trtype = r.trtype, plan.adrfam = r.adrfam, plan.traddr = r.traddr, plan.trsvcid = r.trsvcid;
  if (r.trtype == "loop") return absl::OkStatus();
  if (r.trtype != "tcp" && r.trtype != "rdma")
    return absl::InvalidArgumentError(absl::StrCat("transport \"", r.trtype, "\": tcp, rdma or loop"));
  if (r.traddr.empty())
    return absl::InvalidArgumentError(absl::StrCat("a ", r.trtype, " port needs the address to listen on"));
  if (plan.adrfam.empty()) plan.adrfam = r.traddr.find(':') != std::string::npos ? "ipv6" : "ipv4";
  if (plan.trsvcid.empty()) plan.trsvcid = "4420";
  return absl::OkStatus();
}

// A namespace the kernel's target may take: not in use (unless forced), not
// exported already.
absl::Status CheckNamespace(const NvmetConfig& config, const NvmetExportRequest& r, const Namespace& ns) {
  if (r.force && (ns.in_use() || !ns.use_unknown.empty()) && !internal::HasCapSysAdmin())
    return absl::PermissionDeniedError(absl::StrCat(ns.name, " is in use, and overriding that safety check needs "
                                                    "CAP_SYS_ADMIN"));
  if (!ns.use_unknown.empty() && !r.force)
    return WithFix(absl::FailedPreconditionError(absl::StrCat("whether ", ns.name, " is in use is unknown (",
                                                              ns.use_unknown, "); exporting it could corrupt it")),
                   SetOption(Fix::Option::kForce));
  if (ns.in_use() && !r.force)
    return WithFix(absl::FailedPreconditionError(absl::StrCat(ns.name, " is in use (", absl::StrJoin(ns.uses(), ", "),
                                                              "): a remote host writing it would corrupt it")),
                   SetOption(Fix::Option::kForce));
  for (const NvmetNamespace& n : config.AllNamespaces())
    if (n.device_path == ns.block_device)
      return absl::FailedPreconditionError(absl::StrCat(ns.block_device, " is exported already, as namespace ", n.nsid,
                                                        " of ", n.subsystem));
  return absl::OkStatus();
}

// The p2pmem value for one namespace, predicted; a refusal when the kernel
// would refuse it on enable.
absl::StatusOr<NvmetExportNamespace> PlanNamespace(const SysRoot& root, const System& sys,
                                                   const PlatformFacts& platform, const NvmetConfig& config,
                                                   const NvmetExportRequest& r, const Namespace& ns, uint32_t nsid,
                                                   NvmetExportPlan& plan) {
  NvmetExportNamespace out{.nsid = nsid, .device_path = ns.block_device};
  out.p2pmem = r.p2pmem == P2pMemChoice::kNone ? "0"
               : r.p2pmem == P2pMemChoice::kAuto ? "1"
                                                 : r.p2pmem_device->ToString();
  NvmetConfig as_planned = config;
  as_planned.subsystems.push_back({.nqn = plan.nqn,
                                   .namespaces = {{.subsystem = plan.nqn, .nsid = nsid, .device_path = ns.block_device,
                                                   .p2pmem_raw = out.p2pmem}}});
  as_planned.ports.push_back({.id = plan.port_id, .trtype = plan.trtype, .subsystems = {plan.nqn}});
  out.prediction = PredictNvmetP2p(root, sys, platform, as_planned, as_planned.subsystems.back().namespaces[0]);
  if (r.p2pmem == P2pMemChoice::kNone) return out;
  if (out.prediction.accepted == false) {
    absl::Status s = absl::FailedPreconditionError(
        absl::StrCat("namespace ", nsid, " (", ns.name, "): the kernel would refuse p2pmem ", out.p2pmem, ": ",
                     out.prediction.accepted_reason));
    for (const Fix& f : out.prediction.fixes) AddFix(s, f);
    return s;
  }
  // "1" leaves the choice to the kernel; name the CMB it will pick instead.
  if (r.p2pmem == P2pMemChoice::kAuto && out.prediction.provider) out.p2pmem = out.prediction.provider->ToString();
  plan.reasons.push_back(absl::StrCat("namespace ", nsid, " (", ns.name, ") stages in ", out.p2pmem, ": ",
                                      out.prediction.accepted_reason, "; ", out.prediction.used_reason));
  return out;
}

}  // namespace

absl::StatusOr<NvmetExportPlan> PlanNvmetExport(const SysRoot& root, const System& sys, const PlatformFacts& platform,
                                               const NvmetConfig& config, const NvmetExportRequest& r) {
  if (!config.present)
    return absl::FailedPreconditionError(absl::StrCat(
        "the kernel's NVMe-oF target is not loaded (modules nvmet and ", r.trtype == "loop" ? "nvme-loop" : "nvmet-",
        r.trtype == "loop" ? "" : r.trtype, "), or configfs is not mounted at /sys/kernel/config"));
  if (r.nqn.empty()) return absl::InvalidArgumentError("the subsystem needs an NQN");
  if (r.namespaces.empty()) return absl::InvalidArgumentError("nothing to export: no namespace given");
  if (!r.allow_any_host && r.hosts.empty())
    return absl::InvalidArgumentError("no host may connect: name the hosts' NQNs, or allow any host explicitly");
  if (r.p2pmem == P2pMemChoice::kDevice && !r.p2pmem_device)
    return absl::InvalidArgumentError("p2pmem on a named device needs its PCI address");
  for (const NvmetSubsystem& s : config.subsystems)
    if (s.nqn == r.nqn) return absl::AlreadyExistsError(absl::StrCat("subsystem ", r.nqn, " exists already"));
  NvmetExportPlan plan{.nqn = r.nqn, .port_id = FreePortId(config), .hosts = r.hosts,
                       .allow_any_host = r.allow_any_host};
  CMB_RETURN_IF_ERROR(CheckTransport(r, plan));
  for (const NvmetPort& p : config.ports)
    if (p.trtype == plan.trtype && p.traddr == plan.traddr && p.trsvcid == plan.trsvcid && plan.trtype != "loop")
      return absl::AlreadyExistsError(absl::StrCat("port ", p.id, " listens on ", plan.trtype, " ", plan.traddr, ":",
                                                   plan.trsvcid, " already"));
  for (size_t i = 0; i < r.namespaces.size(); ++i) {
    CMB_RETURN_IF_ERROR(CheckNamespace(config, r, r.namespaces[i]));
    CMB_ASSIGN_OR_RETURN(NvmetExportNamespace n, PlanNamespace(root, sys, platform, config, r, r.namespaces[i],
                                                               static_cast<uint32_t>(i + 1), plan));
    plan.namespaces.push_back(std::move(n));
  }
  return plan;
}

namespace {

absl::Status WriteSubsystem(ConfigfsWriter& w, const SysRoot& root, const std::string& nqn, bool allow_any_host,
                            const std::vector<std::string>& hosts) {
  const std::string sub = Cfg("subsystems/" + nqn);
  for (const std::string& h : hosts)
    if (!root.Exists(Cfg("hosts/" + h))) CMB_RETURN_IF_ERROR(w.Mkdir(Cfg("hosts/" + h)));
  CMB_RETURN_IF_ERROR(w.Mkdir(sub));
  CMB_RETURN_IF_ERROR(w.Write(sub + "/attr_allow_any_host", allow_any_host ? "1" : "0"));
  for (const std::string& h : hosts) CMB_RETURN_IF_ERROR(w.Link(Cfg("hosts/" + h), sub + "/allowed_hosts/" + h));
  return absl::OkStatus();
}

absl::Status WriteNamespace(ConfigfsWriter& w, const std::string& nqn, uint32_t nsid, const std::string& device,
                            const std::string& p2pmem, bool enable) {
  const std::string ns = Cfg(absl::StrCat("subsystems/", nqn, "/namespaces/", nsid));
  CMB_RETURN_IF_ERROR(w.Mkdir(ns));
  CMB_RETURN_IF_ERROR(w.Write(ns + "/device_path", device));
  if (p2pmem != "0") CMB_RETURN_IF_ERROR(w.Write(ns + "/p2pmem", p2pmem));
  if (enable) CMB_RETURN_IF_ERROR(w.Write(ns + "/enable", "1"));
  return absl::OkStatus();
}

// The port's address first: linking a subsystem enables the port.
absl::Status WritePort(ConfigfsWriter& w, const SysRoot& root, const NvmetPort& p) {
  const std::string port = Cfg("ports/" + p.id);
  if (!root.Exists(port)) CMB_RETURN_IF_ERROR(w.Mkdir(port));
  CMB_RETURN_IF_ERROR(w.Write(port + "/addr_trtype", p.trtype));
  if (!p.adrfam.empty()) CMB_RETURN_IF_ERROR(w.Write(port + "/addr_adrfam", p.adrfam));
  if (!p.traddr.empty()) CMB_RETURN_IF_ERROR(w.Write(port + "/addr_traddr", p.traddr));
  if (!p.trsvcid.empty()) CMB_RETURN_IF_ERROR(w.Write(port + "/addr_trsvcid", p.trsvcid));
  for (const std::string& nqn : p.subsystems)
    CMB_RETURN_IF_ERROR(w.Link(Cfg("subsystems/" + nqn), port + "/subsystems/" + nqn));
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyNvmetExport(const SysRoot& root, const NvmetExportPlan& plan) {
  ConfigfsWriter w(root);
  CMB_RETURN_IF_ERROR(WriteSubsystem(w, root, plan.nqn, plan.allow_any_host, plan.hosts));
  for (const NvmetExportNamespace& n : plan.namespaces)
    CMB_RETURN_IF_ERROR(WriteNamespace(w, plan.nqn, n.nsid, n.device_path, n.p2pmem, true));
  CMB_RETURN_IF_ERROR(WritePort(w, root, {.id = plan.port_id, .trtype = plan.trtype, .adrfam = plan.adrfam,
                                          .traddr = plan.traddr, .trsvcid = plan.trsvcid, .subsystems = {plan.nqn}}));
  w.Commit();
  return absl::OkStatus();
}

absl::Status RestoreNvmetConfig(const SysRoot& root, const NvmetConfig& config) {
  absl::StatusOr<NvmetConfig> now = ReadNvmetConfig(root);
  if (!now.ok()) return now.status();
  if (!now->present) return absl::FailedPreconditionError("the kernel's NVMe-oF target is not loaded");
  for (const NvmetSubsystem& s : config.subsystems)
    for (const NvmetSubsystem& t : now->subsystems)
      if (s.nqn == t.nqn) return absl::AlreadyExistsError(absl::StrCat("subsystem ", s.nqn, " exists already"));
  for (const NvmetPort& p : config.ports)
    for (const NvmetPort& q : now->ports)
      if (p.id == q.id) return absl::AlreadyExistsError(absl::StrCat("port ", p.id, " exists already"));
  ConfigfsWriter w(root);
  for (const NvmetSubsystem& s : config.subsystems) {
    CMB_RETURN_IF_ERROR(WriteSubsystem(w, root, s.nqn, s.allow_any_host, s.allowed_hosts));
    for (const NvmetNamespace& n : s.namespaces)
      CMB_RETURN_IF_ERROR(WriteNamespace(w, s.nqn, n.nsid, n.device_path, n.p2pmem_raw.value_or("0"), n.enabled));
  }
  for (const NvmetPort& p : config.ports) CMB_RETURN_IF_ERROR(WritePort(w, root, p));
  w.Commit();
  return absl::OkStatus();
}

namespace {

absl::Status Remove(const SysRoot& root, const std::string& path, bool link) {
  if ((link ? ::unlink(root.Host(path).c_str()) : ::rmdir(root.Host(path).c_str())) == 0) return absl::OkStatus();
  return absl::ErrnoToStatus(errno, absl::StrCat("remove ", path));
}

}  // namespace

absl::Status RemoveNvmetExport(const SysRoot& root, const NvmetConfig& config, const std::string& nqn) {
  auto s = std::find_if(config.subsystems.begin(), config.subsystems.end(),
                        [&](const NvmetSubsystem& x) { return x.nqn == nqn; });
  if (s == config.subsystems.end()) return absl::NotFoundError(absl::StrCat("no subsystem ", nqn));
  ConfigfsWriter w(root);  // only for its writes; removal is not rolled back
  w.Commit();
  for (const NvmetPort* p : config.PortsOf(nqn)) {
    CMB_RETURN_IF_ERROR(Remove(root, Cfg(absl::StrCat("ports/", p->id, "/subsystems/", nqn)), true));
    if (p->subsystems.size() == 1) CMB_RETURN_IF_ERROR(Remove(root, Cfg("ports/" + p->id), false));
  }
  for (const NvmetNamespace& n : s->namespaces) {
    const std::string ns = Cfg(absl::StrCat("subsystems/", nqn, "/namespaces/", n.nsid));
    CMB_RETURN_IF_ERROR(w.Write(ns + "/enable", "0"));
    CMB_RETURN_IF_ERROR(Remove(root, ns, false));
  }
  for (const std::string& h : s->allowed_hosts)
    CMB_RETURN_IF_ERROR(Remove(root, Cfg(absl::StrCat("subsystems/", nqn, "/allowed_hosts/", h)), true));
  CMB_RETURN_IF_ERROR(Remove(root, Cfg("subsystems/" + nqn), false));
  for (const std::string& h : s->allowed_hosts) {
    bool still = false;
    for (const NvmetSubsystem& o : config.subsystems)
      still |= o.nqn != nqn && std::count(o.allowed_hosts.begin(), o.allowed_hosts.end(), h) > 0;
    if (!still) CMB_RETURN_IF_ERROR(Remove(root, Cfg("hosts/" + h), false));
  }
  return absl::OkStatus();
}

}  // namespace cmb
