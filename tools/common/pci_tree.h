// The PCIe tree above the NVMe controllers, as cmbinfo shows it: host
// bridges, the bridges on the way down (root ports, switch ports), the
// controllers; each named from pci.ids the way lspci names it
// (cmb/pci_names.h), hex IDs without it. One model for the --topology text,
// the JSON "topology" array and the Graphviz graph (dot.h).
//
//   cmbtools::PciTree tree = cmbtools::BuildPciTree(root, sys);
//   for (const cmbtools::TreeNode& n : tree.nodes)   // parents before children
//     std::cout << std::string(2 * n.depth, ' ') << n.id << "  " << n.label << "\n";
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmb/discovery.h"
#include "cmb/pci_config.h"
#include "cmb/sysroot.h"

namespace cmbtools {

enum class NodeKind { kHostBridge, kBridge, kController };
const char* NodeKindName(NodeKind k);  // "host_bridge", "bridge", "controller"

struct TreeNode {
  NodeKind kind = NodeKind::kBridge;
  std::string id;      // "pci0000:00" for a host bridge, else the function's BDF
  std::string parent;  // the node above; "" for host bridges and controllers off the tree
  int depth = 0;       // 0 for host bridges
  // The function named: a host bridge's is the first device on its root bus,
  // the one the kernel's P2PDMA whitelist checks (none when the bus is empty).
  std::optional<cmb::PciAddress> function;
  uint16_t vendor = 0, device = 0;  // 0:0 when unreadable
  uint32_t class_code = 0;
  std::optional<std::string> name;        // "Red Hat, Inc. QEMU PCIe Root port", from pci.ids
  std::optional<std::string> class_name;  // "PCI bridge"
  std::string label;                      // name and IDs, or IDs alone (lspci -nn's form); "" without a function
  std::optional<uint8_t> port_type;       // PCIe port type when config space shows it (4 root port, 5, 6 switch)
  cmb::AcsRead acs;                       // bridges: their ACS control
  const cmb::Controller* controller = nullptr;
};

struct PciTree {
  // Depth first: each host bridge, then what is below it in address order;
  // controllers that are not PCI functions (or whose place could not be
  // read) last, at depth 0.
  std::vector<TreeNode> nodes;
  std::vector<std::string> errors;  // why a controller's place could not be read
  const TreeNode* Find(const std::string& id) const;
};

// `sys` must outlive the tree (nodes point at its controllers).
PciTree BuildPciTree(const cmb::SysRoot& root, const cmb::System& sys);

// "ACS none", "ACS RR+CR REDIRECT", "no ACS", "ACS ?(needs root)".
std::string AcsText(const cmb::AcsRead& acs);
// "root port", "switch upstream port", "switch downstream port", "" when not a port or unknown.
std::string PortTypeText(std::optional<uint8_t> type);

// cmbinfo -o json: the "topology" array, and "pci_id"/"pci_name" on each of
// j["controllers"] (docs/json-schema.md).
void AddTopology(nlohmann::json& j, const PciTree& tree);

}  // namespace cmbtools
