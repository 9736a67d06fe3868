// PciNames: the PCI ID database (pci.ids) through libpci, read the way lspci
// reads it, for vendor, device and class names by number. The move-only
// owner of one libpci pci_access that holds nothing but the names: no bus is
// scanned, no udev hwdb, DNS or ~/.pciids-cache is consulted, so a name comes
// from the one file loaded, or there is none.
//
//   absl::StatusOr<cmb::internal::PciNames> n = cmb::internal::PciNames::Load("/usr/share/misc/pci.ids");
//   n->Device(0x1b36, 0x0010);  // "Red Hat, Inc. QEMU NVM Express Controller"
//   n->Class(0x010802);         // "Non-Volatile memory controller"
//
// Threads: one at a time per PciNames (libpci's name hash is unlocked);
// cmb/pci_names.h shares one per file behind a lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

struct pci_access;

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

class PciNames {
 public:
  // Loads the database at `path` (plain or gzip). NotFound when it cannot
  // be opened, DataLoss (with libpci's message) when libpci finds it malformed.
  static absl::StatusOr<PciNames> Load(const std::string& path);
  // Where libpci looks by default ("/usr/share/misc/pci.ids.gz" as built).
  static std::string DefaultPath();

  PciNames(PciNames&& other) noexcept;
  PciNames& operator=(PciNames&& other) noexcept;
  PciNames(const PciNames&) = delete;
  PciNames& operator=(const PciNames&) = delete;
  ~PciNames();

  // lspci's "<vendor> <device>"; "<vendor> Device 0010" when the database
  // knows the vendor only (as lspci says it); nullopt when not the vendor.
  std::optional<std::string> Device(uint16_t vendor, uint16_t device) const;
  // The subclass's name, else the base class's ("Mass storage controller [0106]");
  // `class_code` is the 24-bit class register (0x010802).
  std::optional<std::string> Class(uint32_t class_code) const;

 private:
  explicit PciNames(pci_access* access) : access_(access) {}
  pci_access* access_ = nullptr;
};

}  // namespace cmb::internal
#pragma GCC visibility pop
