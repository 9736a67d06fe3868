// Builds the named PCIe tree from discovery (pci_tree.h) and writes its JSON.
#include "pci_tree.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "cmb/pci_names.h"
#include "cmb/pci_topology.h"
#include "fix_words.h"

namespace cmbtools {
namespace {

constexpr uint8_t kPcieTypeSwitchUp = 5, kPcieTypeSwitchDown = 6;  // PCI_EXP_TYPE_UPSTREAM, _DOWNSTREAM

// Nodes by id and their children, gathered controller by controller (shared
// bridges once), then laid out depth first.
class TreeBuilder {
 public:
  explicit TreeBuilder(const cmb::SysRoot& root) : root_(root) {}

  std::string HostBridge(const std::string& host) {
    if (nodes_.count(host)) return host;
    TreeNode n = New(NodeKind::kHostBridge, host, "");
    absl::StatusOr<std::vector<cmb::PciAddress>> bus = cmb::RootBusDevices(root_, host);
    if (bus.ok() && !bus->empty()) Describe(n, bus->front());
    nodes_[host] = n;
    return host;
  }

  std::string Bridge(const cmb::PciAddress& a, const std::string& parent) {
    std::string id = a.ToString();
    if (nodes_.count(id)) return id;
    TreeNode n = New(NodeKind::kBridge, id, parent);
    Describe(n, a);
    n.acs = cmb::ReadAcs(root_, a);
    absl::StatusOr<cmb::ConfigSpace> cfg = cmb::ReadConfigSpace(root_, a);
    if (cfg.ok()) n.port_type = cmb::PcieType(cfg->bytes);
    Add(n);
    return id;
  }

  void Controller(const cmb::Controller& c, const std::string& parent) {
    TreeNode n = New(NodeKind::kController, c.address ? c.address->ToString() : c.name, parent);
    if (c.address) Describe(n, *c.address);
    n.controller = &c;
    Add(n);
  }

  PciTree Ordered() {
    PciTree t;
    for (auto& [id, n] : nodes_)
      if (n.kind == NodeKind::kHostBridge) Visit(id, 0, t);
    for (auto& [id, n] : nodes_)
      if (n.kind == NodeKind::kController && n.parent.empty()) t.nodes.push_back(n);
    return t;
  }

 private:
  static TreeNode New(NodeKind kind, const std::string& id, const std::string& parent) {
    TreeNode n;
    n.kind = kind, n.id = id, n.parent = parent;
    return n;
  }
  // The function's IDs and its names from the tree's pci.ids.
  void Describe(TreeNode& n, const cmb::PciAddress& a) {
    n.function = a;
    absl::StatusOr<cmb::PciNode> p = cmb::LookupPciNode(root_, a);
    if (!p.ok()) return;
    n.vendor = p->vendor, n.device = p->device, n.class_code = p->class_code;
    n.name = cmb::PciDeviceName(root_, n.vendor, n.device);
    n.class_name = cmb::PciClassName(root_, n.class_code);
    n.label = cmb::PciDeviceLabel(root_, n.vendor, n.device);
  }
  void Add(const TreeNode& n) {
    nodes_[n.id] = n;
    if (!n.parent.empty()) children_[n.parent].insert(n.id);
  }
  void Visit(const std::string& id, int depth, PciTree& t) {
    TreeNode n = nodes_.at(id);
    n.depth = depth;
    t.nodes.push_back(n);
    for (const std::string& child : children_[id]) Visit(child, depth + 1, t);
  }

  const cmb::SysRoot& root_;
  std::map<std::string, TreeNode> nodes_;
  std::map<std::string, std::set<std::string>> children_;
};

}  // namespace

const char* NodeKindName(NodeKind k) {
  switch (k) {
    case NodeKind::kHostBridge: return "host_bridge";
    case NodeKind::kBridge: return "bridge";
    case NodeKind::kController: return "controller";
  }
  return "bridge";
}

const TreeNode* PciTree::Find(const std::string& id) const {
  for (const TreeNode& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

PciTree BuildPciTree(const cmb::SysRoot& root, const cmb::System& sys) {
  TreeBuilder b(root);
  std::vector<std::string> errors;
  for (const cmb::Controller& c : sys.controllers) {
    absl::StatusOr<cmb::PciNode> n =
        c.address ? cmb::LookupPciNode(root, *c.address) : absl::NotFoundError(c.name + " is not a PCI function");
    if (!n.ok()) {
      if (c.address) errors.push_back(WithFixes(n.status()));
      b.Controller(c, "");
      continue;
    }
    std::string parent = b.HostBridge(n->host_bridge);
    for (auto it = n->upstream.rbegin(); it != n->upstream.rend(); ++it) parent = b.Bridge(*it, parent);
    b.Controller(c, parent);
  }
  PciTree t = b.Ordered();
  t.errors = std::move(errors);
  return t;
}

std::string AcsText(const cmb::AcsRead& acs) {
  switch (acs.state) {
    case cmb::AcsState::kUnknown: return "ACS ?(needs root)";
    case cmb::AcsState::kNoCapability: return "no ACS";
    case cmb::AcsState::kNoRedirect: return absl::StrCat("ACS ", cmb::AcsCtrlToString(acs.ctrl));
    case cmb::AcsState::kRedirect: return absl::StrCat("ACS ", cmb::AcsCtrlToString(acs.ctrl), " REDIRECT");
  }
  return "ACS ?";
}

std::string PortTypeText(std::optional<uint8_t> type) {
  if (type == cmb::kPcieTypeRootPort) return "root port";
  if (type == kPcieTypeSwitchUp) return "switch upstream port";
  if (type == kPcieTypeSwitchDown) return "switch downstream port";
  return "";
}

namespace {

nlohmann::json OrNull(const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(nullptr); }

const char* AcsStateName(cmb::AcsState s) {
  switch (s) {
    case cmb::AcsState::kNoCapability: return "no_capability";
    case cmb::AcsState::kNoRedirect: return "no_redirect";
    case cmb::AcsState::kRedirect: return "redirect";
    case cmb::AcsState::kUnknown: return "unknown";
  }
  return "unknown";
}

nlohmann::json PortJson(std::optional<uint8_t> type) {
  if (type == cmb::kPcieTypeRootPort) return "root_port";
  if (type == kPcieTypeSwitchUp) return "switch_upstream";
  if (type == kPcieTypeSwitchDown) return "switch_downstream";
  return nullptr;
}

nlohmann::json NodeJson(const TreeNode& n) {
  bool ids = n.function && (n.vendor || n.device);
  nlohmann::json j = {
      {"id", n.id},
      {"kind", NodeKindName(n.kind)},
      {"parent", n.parent.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.parent)},
      {"address", n.function ? nlohmann::json(n.function->ToString()) : nlohmann::json(nullptr)},
      {"pci_id", ids ? nlohmann::json(cmb::PciIdString(n.vendor, n.device)) : nlohmann::json(nullptr)},
      {"name", OrNull(n.name)},
      {"class", OrNull(n.class_name)},
      {"port", PortJson(n.port_type)},
      {"controller", n.controller ? nlohmann::json(n.controller->name) : nlohmann::json(nullptr)}};
  if (n.kind == NodeKind::kBridge)
    j["acs"] = {{"state", AcsStateName(n.acs.state)},
                {"ctrl", n.acs.state == cmb::AcsState::kNoRedirect || n.acs.state == cmb::AcsState::kRedirect
                             ? nlohmann::json(cmb::AcsCtrlToString(n.acs.ctrl))
                             : nlohmann::json(nullptr)}};
  else
    j["acs"] = nullptr;
  return j;
}

}  // namespace

void AddTopology(nlohmann::json& j, const PciTree& tree) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const TreeNode& n : tree.nodes) nodes.push_back(NodeJson(n));
  j["topology"] = nodes;
  for (nlohmann::json& c : j["controllers"]) {
    const TreeNode* n = nullptr;
    for (const TreeNode& t : tree.nodes)
      if (t.controller && t.controller->name == c["name"]) n = &t;
    bool ids = n && n->function && (n->vendor || n->device);
    c["pci_id"] = ids ? nlohmann::json(cmb::PciIdString(n->vendor, n->device)) : nlohmann::json(nullptr);
    c["pci_name"] = n ? OrNull(n->name) : nlohmann::json(nullptr);
  }
}

}  // namespace cmbtools
