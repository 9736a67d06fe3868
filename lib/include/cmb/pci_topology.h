// The PCI tree as sysfs shows it: for a function, its chain of upstream
// bridges (the kernel's pci_upstream_bridge() walk), its host bridge, its IDs
// and its ACS state. The P2P path verdict is computed from these.
//
//   absl::StatusOr<cmb::PciNode> n = cmb::LookupPciNode(root, addr);
//   n->upstream;      // nearest bridge first: downstream port, switch up port, root port
//   n->host_bridge;   // "pci0000:00"
//
// Threads: reads sysfs per call and returns values; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/pci_address.h"
#include "cmb/pci_config.h"
#include "cmb/sysroot.h"

namespace cmb {

struct PciNode {
  PciAddress address;
  std::string sysfs_path;           // canonical: /sys/devices/pci0000:00/.../<bdf>
  std::string host_bridge;          // "pci0000:00"
  std::vector<PciAddress> upstream;  // bridges above, nearest first
  uint16_t vendor = 0;
  uint16_t device = 0;
  uint32_t class_code = 0;  // 24-bit, 0x010802 = NVMe
};

absl::StatusOr<PciNode> LookupPciNode(const SysRoot& root, const PciAddress& address);

// ACS control of one function, from its config space. kUnknown when the
// extended config space cannot be read (unprivileged).
AcsRead ReadAcs(const SysRoot& root, const PciAddress& address);

// Config-space bytes as far as this process may read them (64 bytes
// unprivileged, 256 or 4096 as root), and the size the kernel reports.
struct ConfigSpace {
  std::vector<uint8_t> bytes;
  size_t file_size = 0;
};
absl::StatusOr<ConfigSpace> ReadConfigSpace(const SysRoot& root, const PciAddress& address);

// The PCI functions directly on a host bridge's root bus, lowest devfn first
// (the kernel's scan order).
absl::StatusOr<std::vector<PciAddress>> RootBusDevices(const SysRoot& root,
                                                       const std::string& host_bridge);

}  // namespace cmb
