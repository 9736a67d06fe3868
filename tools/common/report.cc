#include "fix_words.h"
#include "report.h"

#include "cmb/fabric_path.h"
#include "cmb/kernel_rules.h"
#include "cmb/own_cmb.h"

#include "absl/strings/str_format.h"

namespace cmbtools {

std::string Dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return absl::StrFormat("%u B", bytes);
  if (v == static_cast<double>(static_cast<uint64_t>(v))) return absl::StrFormat("%.0f %s", v, kUnits[u]);
  return absl::StrFormat("%.1f %s", v, kUnits[u]);
}

namespace {
nlohmann::json OrNull(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }
nlohmann::json OrNull(const std::optional<int>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json FabricJson(const cmb::FabricInfo& f) {
  nlohmann::json rnic = nullptr;
  if (f.rnic)
    rnic = {{"ib_device", f.rnic->ib_device},
            {"netdev", OrNull(f.rnic->netdev)},
            {"address", f.rnic->address ? nlohmann::json(f.rnic->address->ToString()) : nlohmann::json(nullptr)},
            {"how", f.rnic->how}};
  return {{"traddr", OrNull(f.traddr)},
          {"trsvcid", OrNull(f.trsvcid)},
          {"host_traddr", OrNull(f.host_traddr)},
          {"host_iface", OrNull(f.host_iface)},
          {"src_addr", OrNull(f.src_addr)},
          {"subsysnqn", f.subsysnqn},
          {"state", OrNull(f.state)},
          {"ctrl_loss_tmo_s", OrNull(f.ctrl_loss_tmo_s)},
          {"reconnects_forever", f.reconnects_forever},
          {"reconnect_delay_s", OrNull(f.reconnect_delay_s)},
          {"rnic", rnic},
          {"rnic_note", OrNull(f.rnic_note)}};
}
}  // namespace

nlohmann::json ToJson(const cmb::Controller& c) {
  nlohmann::json j;
  j["name"] = c.name;
  j["transport"] = c.transport;
  j["address"] = c.address ? nlohmann::json(c.address->ToString()) : nlohmann::json(nullptr);
  j["model"] = c.model;
  j["serial"] = c.serial;
  j["firmware"] = c.firmware;
  j["numa_node"] = c.numa_node;
  j["link_speed"] = c.link_speed.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.link_speed);
  j["link_width"] = c.link_width ? nlohmann::json(c.link_width) : nlohmann::json(nullptr);
  if (c.cmb) {
    const cmb::CmbRegisters& r = *c.cmb;
    j["cmb"] = {{"size_bytes", r.size_bytes},   {"offset_bytes", r.offset_bytes},
                {"bir", r.loc.bir},             {"sqs", r.sz.sqs},
                {"cqs", r.sz.cqs},              {"lists", r.sz.lists},
                {"rds", r.sz.rds},              {"wds", r.sz.wds},
                {"szu", r.sz.szu},              {"sz", r.sz.sz},
                {"ofst", r.loc.ofst},           {"cqmms", r.loc.cqmms},
                {"cqpds", r.loc.cqpds},         {"cdpmls", r.loc.cdpmls},
                {"cdpcils", r.loc.cdpcils},     {"cdmmms", r.loc.cdmmms},
                {"cqda", r.loc.cqda},           {"cmbloc", r.cmbloc_raw},
                {"cmbsz", r.cmbsz_raw}};
  } else {
    j["cmb"] = nullptr;
  }
  j["cmb_note"] = c.cmb_note.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.cmb_note);
  j["p2pmem_note"] = c.p2pmem_note.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.p2pmem_note);
  j["iommu_domain"] = c.iommu_domain.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.iommu_domain);
  if (c.p2pmem) {
    j["p2pmem"] = {{"size_bytes", c.p2pmem->size_bytes},
                   {"available_bytes", c.p2pmem->available_bytes},
                   {"published", c.p2pmem->published},
                   {"allocate", c.p2pmem->allocate}};
  } else {
    j["p2pmem"] = nullptr;
  }
  j["fabric"] = c.fabric ? FabricJson(*c.fabric) : nlohmann::json(nullptr);
  j["namespaces"] = nlohmann::json::array();
  for (const cmb::Namespace& n : c.namespaces) {
    j["namespaces"].push_back({
        {"nsid", n.nsid},
        {"name", n.name},
        {"generic_device", n.generic_device.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.generic_device)},
        {"block_device", n.block_device},
        {"lba_size", n.lba_size},
        {"capacity_blocks", n.capacity_blocks},
        {"max_transfer_bytes", n.max_transfer_bytes},
        {"max_hw_transfer_bytes", n.max_hw_transfer_bytes},
        {"max_segments", n.max_segments},
        {"holders", n.holders},
        {"mountpoints", n.mountpoints},
        {"swaps", n.swaps},
        {"system_mounts", n.system_mounts},
        {"use_unknown", n.use_unknown.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.use_unknown)},
        {"id", {{"wwid", n.id.wwid}, {"nguid", n.id.nguid}, {"eui64", n.id.eui}, {"uuid", n.id.uuid}}},
    });
  }
  return j;
}

namespace {
std::string NameOf(const cmb::System& sys, const cmb::PciAddress& a) {
  const cmb::Controller* c = sys.FindByAddress(a);
  return c ? c->name : a.ToString();
}
}  // namespace

nlohmann::json ToJson(const cmb::P2pPath& p, const cmb::System& sys) {
  auto addrs = [](const std::vector<cmb::PciAddress>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const cmb::PciAddress& x : v) a.push_back(x.ToString());
    return a;
  };
  // A controller and its own CMB: whether it takes the commands the kernel sends.
  nlohmann::json own = nullptr;
  if (p.provider == p.client)
    if (const cmb::Controller* c = sys.FindByAddress(p.provider)) {
      cmb::OwnCmbVerdict v = cmb::PredictOwnCmb(sys.rules, *c);
      own = {{"outcome", cmb::OwnCmbOutcomeName(v.outcome)},
             {"command_bytes_limit", v.command_bytes_limit},
             {"reason", v.reason}};
    }
  return {
      {"provider", p.provider.ToString()},
      {"provider_name", NameOf(sys, p.provider)},
      {"client", p.client.ToString()},
      {"client_name", NameOf(sys, p.client)},
      {"verdict", cmb::PathVerdictName(p.verdict)},
      {"distance", p.distance},
      {"common_bridge", p.common_bridge ? nlohmann::json(p.common_bridge->ToString()) : nlohmann::json(nullptr)},
      {"acs_redirect", addrs(p.acs_redirect)},
      {"acs_unknown", addrs(p.acs_unknown)},
      {"reason", p.reason},
      {"fix", p.fix.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.fix)},
      {"own_cmb", own},
  };
}

nlohmann::json ToJson(const cmb::System& sys, const std::vector<cmb::P2pPath>& paths) {
  nlohmann::json j;
  const cmb::KernelRules& rules = sys.rules;
  j["kernel"] = {{"release", sys.kernel.release},
                 {"p2pdma", cmb::SupportName(sys.kernel.p2pdma)},
                 {"evidence", WithFixes(sys.kernel.evidence, sys.kernel.fixes)},
                 {"iommus", sys.kernel.iommus},
                 {"rules_version", rules.rules_version},
                 {"rules",
                  {{"newer_than_known", rules.newer_than_known},
                   {"unreachable_errno", rules.unreachable_errno_name()},
                   {"mixed_memory_per_command", rules.mixed_memory_per_command},
                   {"p2pmem_allocate", rules.p2pmem_allocate},
                   {"passthrough", rules.passthrough},
                   {"sqe_mixed", rules.sqe_mixed},
                   {"multi_page_p2p", cmb::P2pDataPointerName(rules.multi_page_p2p)},
                   {"cmb_alignment_check", RulePresenceName(rules.cmb_alignment_check)},
                   {"poolless_providers", rules.poolless_providers},
                   {"non_mappable_bars_refused", rules.non_mappable_bars_refused}}}};
  j["controllers"] = nlohmann::json::array();
  for (const cmb::Controller& c : sys.controllers) {
    nlohmann::json jc = ToJson(c);
    if (c.fabric) {  // whether this kernel lets its namespaces take P2P memory at all
      cmb::FabricClient f = cmb::JudgeFabricClient(rules, c);
      jc["fabric"]["p2p"] = {{"eligible", f.eligible},
                             {"dma_client", f.dma_client ? nlohmann::json(f.dma_client->ToString()) : nlohmann::json(nullptr)},
                             {"reason", f.reason},
                             {"fix", OrNull(f.fix)}};
    }
    j["controllers"].push_back(std::move(jc));
  }
  j["p2p"] = nlohmann::json::array();
  for (const cmb::P2pPath& p : paths) j["p2p"].push_back(ToJson(p, sys));
  return j;
}

void AddGroupAccess(nlohmann::json& j, const cmb::System& sys, const cmb::AccessList& list,
                    const std::string& group) {
  nlohmann::json entries = nlohmann::json::array();
  for (const cmb::AccessEntry& e : list.entries) entries.push_back({{"entry", e.ToString()}, {"line", e.line}});
  j["access"] = {{"group", group}, {"list", list.source}, {"entries", entries}, {"warnings", list.warnings}};
  for (size_t i = 0; i < sys.controllers.size(); ++i) {
    const cmb::Controller& c = sys.controllers[i];
    nlohmann::json& jc = j["controllers"][i];
    if (c.p2pmem) {
      cmb::AccessDecision d = cmb::DecideP2pMemAccess(list, c);
      jc["p2pmem"]["group_access"] = {{"granted", d.granted}, {"reason", d.reason}};
    }
    for (size_t k = 0; k < c.namespaces.size(); ++k) {
      cmb::AccessDecision d = cmb::DecideNamespaceAccess(list, c, c.namespaces[k]);
      jc["namespaces"][k]["group_access"] = {{"granted", d.granted}, {"reason", d.reason}};
    }
  }
}

std::vector<cmb::FabricPath> AllFabricPaths(const cmb::SysRoot& root, const cmb::System& sys) {
  std::vector<cmb::FabricPath> out;
  cmb::PlatformFacts platform = cmb::ReadPlatformFacts(root);
  for (size_t pi : sys.Providers())
    for (const cmb::Controller& cl : sys.controllers) {
      if (cl.address) continue;
      absl::StatusOr<cmb::FabricPath> p = cmb::PredictFabricPath(root, platform, *sys.controllers[pi].address, cl);
      if (p.ok()) {
        out.push_back(*p);
      } else {
        cmb::FabricPath u;
        u.provider = *sys.controllers[pi].address;
        u.client = cmb::JudgeFabricClient(sys.rules, cl);
        u.reason = std::string(p.status().message());
        out.push_back(u);
      }
    }
  return out;
}

void AddFabricPaths(nlohmann::json& j, const cmb::System& sys, const std::vector<cmb::FabricPath>& paths) {
  j["fabric_p2p"] = nlohmann::json::array();
  for (const cmb::FabricPath& p : paths)
    j["fabric_p2p"].push_back({
        {"provider", p.provider.ToString()},
        {"provider_name", NameOf(sys, p.provider)},
        {"client_name", p.client.controller},
        {"transport", p.client.transport},
        {"eligible", p.client.eligible},
        {"dma_client", p.client.dma_client ? nlohmann::json(p.client.dma_client->ToString()) : nlohmann::json(nullptr)},
        {"verdict", p.path ? nlohmann::json(cmb::PathVerdictName(p.path->verdict)) : nlohmann::json(nullptr)},
        {"allowed", p.allowed},
        {"reason", p.reason},
        {"fix", OrNull(p.fix)},
    });
}

std::vector<cmb::P2pPath> AllPaths(const cmb::SysRoot& root, const cmb::System& sys) {
  std::vector<cmb::P2pPath> out;
  cmb::PlatformFacts platform = cmb::ReadPlatformFacts(root);
  for (size_t pi : sys.Providers()) {
    const cmb::Controller& prov = sys.controllers[pi];
    for (const cmb::Controller& cl : sys.controllers) {
      if (!cl.address) continue;
      absl::StatusOr<cmb::P2pPath> p = cmb::PredictP2pPath(root, platform, *prov.address, *cl.address);
      if (p.ok()) {
        out.push_back(*p);
      } else {
        cmb::P2pPath u;
        u.provider = *prov.address;
        u.client = *cl.address;
        u.reason = std::string(p.status().message());
        out.push_back(u);
      }
    }
  }
  return out;
}

}  // namespace cmbtools
