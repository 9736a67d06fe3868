// Walking a PCI function's configuration space (the bytes of
// /sys/bus/pci/devices/<bdf>/config) for the capabilities cmb needs: PCI
// Express (port type) and Access Control Services (ACS redirect bits, which
// decide whether peer-to-peer TLPs are forced up to the host bridge).
//
//   std::vector<uint8_t> cfg = ...;            // 4096 bytes when read as root
//   cmb::AcsRead acs = cmb::ParseAcs(cfg, 4096);
//   if (acs.state == cmb::AcsState::kRedirect) ...  // RR, CR or EC set
//
// Unprivileged reads of `config` stop after 64 bytes; the parsers then say
// kUnknown rather than guess. (libpci's capability walk is not used: it reads
// bytes it cannot read as 0xff, so an unprivileged ACS read would look like
// "no ACS capability" and a switch path would be judged allowed.)
//
// Threads: reads a config file per call; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace cmb {

inline constexpr uint16_t kPciExtCapAcs = 0x000d;
inline constexpr uint8_t kPciCapExp = 0x10;
inline constexpr uint16_t kAcsCtrlRedirectMask = 0x0004 | 0x0008 | 0x0010;  // RR | CR | EC

// Offset of a standard capability, nullopt when absent; walks at most 48
// entries (as the kernel does) so a looping list ends.
std::optional<uint16_t> FindCapability(std::span<const uint8_t> cfg, uint8_t id);
// Offset of an extended capability (offset >= 0x100), nullopt when absent.
std::optional<uint16_t> FindExtCapability(std::span<const uint8_t> cfg, uint16_t id);

enum class AcsState {
  kNoCapability,  // no ACS capability: never redirects
  kNoRedirect,    // ACS present, RR/CR/EC clear
  kRedirect,      // ACS present, RR, CR or EC set: P2P goes via the root complex
  kUnknown,       // extended config space not readable (needs root)
};

struct AcsRead {
  AcsState state = AcsState::kUnknown;
  uint16_t ctrl = 0;  // ACS control register when read
};

// `file_size` is the size the kernel reports for `config`: 256 for
// conventional PCI (no extended space, so no ACS), 4096 for PCIe. When fewer
// than 0x104 bytes could be read (unprivileged reads stop at 64), kUnknown.
AcsRead ParseAcs(std::span<const uint8_t> cfg, size_t file_size);

// PCI Express device/port type (PCIe capability flags bits 7:4), nullopt
// when unreadable or not PCIe. 4 is a Root Port.
std::optional<uint8_t> PcieType(std::span<const uint8_t> cfg);
inline constexpr uint8_t kPcieTypeRootPort = 4;

std::string AcsCtrlToString(uint16_t ctrl);

}  // namespace cmb
