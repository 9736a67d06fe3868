// PCI names: what a vendor:device or a class code is called, from the PCI ID
// database (pci.ids) as lspci shows it, read through libpci. The database is
// the one under `root` (/usr/share/misc/pci.ids on Debian, so a test tree
// brings its own); without it, or for an ID it lacks, there is no name and
// callers show hex IDs.
//
//   cmb::PciDeviceName(root, 0x1b36, 0x0010);   // "Red Hat, Inc. QEMU NVM Express Controller"
//   cmb::PciDeviceLabel(root, 0x1b36, 0x0010);  // "Red Hat, Inc. QEMU NVM Express Controller [1b36:0010]",
//                                               // "1b36:0010" without a name (lspci -nn's form)
//   cmb::PciClassName(root, 0x060400);          // "PCI bridge"
//
// Threads: each database file is loaded once per process (again when it
// changes) and shared behind a lock; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cmb/sysroot.h"

namespace cmb {

// "<vendor> <device>", or "<vendor> Device 0010" when the database knows
// only the vendor; nullopt when it does not know the vendor, or is missing.
std::optional<std::string> PciDeviceName(const SysRoot& root, uint16_t vendor, uint16_t device);
// The name with the IDs, or the IDs alone: "<name> [1b36:0010]" / "1b36:0010".
std::string PciDeviceLabel(const SysRoot& root, uint16_t vendor, uint16_t device);
// The 24-bit class register's subclass name ("Non-Volatile memory
// controller"), else its base class's with the number, as lspci gives it
// ("Mass storage controller [0106]"); nullopt when unnamed.
std::optional<std::string> PciClassName(const SysRoot& root, uint32_t class_code);
// "1b36:0010".
std::string PciIdString(uint16_t vendor, uint16_t device);

}  // namespace cmb
