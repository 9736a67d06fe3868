// cmbinfo -o dot: the PCIe tree as a Graphviz graph. Nodes are host
// bridges, bridges, controllers, their CMBs and their namespaces; grey lines
// are the tree, and an arrow from a CMB to each client that would DMA into
// it is coloured and labelled by the kernel's P2P verdict (green switch, blue
// host bridge, red unsupported, orange dashed unknown).
//
//   std::cout << cmbtools::ToDot(cmbtools::BuildPciTree(root, sys), sys, paths);
//   // cmbinfo -o dot | dot -Tsvg > tree.svg
#pragma once

#include <string>
#include <vector>

#include "cmb/discovery.h"
#include "cmb/p2p_path.h"
#include "pci_tree.h"

namespace cmbtools {

std::string ToDot(const PciTree& tree, const cmb::System& sys, const std::vector<cmb::P2pPath>& paths);

// `s` as the inside of a DOT double-quoted string: quotes and backslashes
// escaped, control bytes and invalid UTF-8 (sysfs strings are bytes) as '?'.
std::string DotEscape(const std::string& s);

}  // namespace cmbtools
