#include "cmb/pci_config.h"

#include <vector>

#include "absl/strings/str_join.h"

namespace cmb {
namespace {

uint16_t Le16(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint16_t>(b[off] | b[off + 1] << 8);
}
uint32_t Le32(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint32_t>(b[off]) | static_cast<uint32_t>(b[off + 1]) << 8 |
         static_cast<uint32_t>(b[off + 2]) << 16 | static_cast<uint32_t>(b[off + 3]) << 24;
}

constexpr size_t kStatus = 0x06;
constexpr uint16_t kStatusCapList = 0x10;
constexpr size_t kCapPtr = 0x34;

}  // namespace

std::optional<uint16_t> FindCapability(std::span<const uint8_t> cfg, uint8_t id) {
  if (cfg.size() < 0x40 || !(Le16(cfg, kStatus) & kStatusCapList)) return std::nullopt;
  size_t pos = cfg[kCapPtr];
  for (int ttl = 48; ttl > 0 && pos >= 0x40; --ttl) {
    pos &= ~size_t{3};
    if (pos + 2 > cfg.size()) return std::nullopt;
    if (cfg[pos] == 0xff) return std::nullopt;
    if (cfg[pos] == id) return static_cast<uint16_t>(pos);
    pos = cfg[pos + 1];
  }
  return std::nullopt;
}

std::optional<uint16_t> FindExtCapability(std::span<const uint8_t> cfg, uint16_t id) {
  size_t pos = 0x100;
  // Same bound as the kernel's pci_find_next_ext_capability().
  for (int ttl = (4096 - 256) / 8; ttl > 0; --ttl) {
    if (pos + 4 > cfg.size()) return std::nullopt;
    uint32_t header = Le32(cfg, pos);
    if (header == 0 || header == 0xffffffffu) return std::nullopt;
    if ((header & 0xffff) == id) return static_cast<uint16_t>(pos);
    pos = header >> 20 & 0xffc;
    if (pos < 0x100) return std::nullopt;
  }
  return std::nullopt;
}

AcsRead ParseAcs(std::span<const uint8_t> cfg, size_t file_size) {
  AcsRead r;
  if (file_size == 256) {  // conventional PCI: no extended space, no ACS
    r.state = AcsState::kNoCapability;
    return r;
  }
  if (cfg.size() < 0x104) return r;  // unknown: extended space not readable
  std::optional<uint16_t> pos = FindExtCapability(cfg, kPciExtCapAcs);
  if (!pos) {
    r.state = AcsState::kNoCapability;
    return r;
  }
  if (*pos + 8u > cfg.size()) return r;
  r.ctrl = Le16(cfg, *pos + 6u);
  r.state = (r.ctrl & kAcsCtrlRedirectMask) ? AcsState::kRedirect : AcsState::kNoRedirect;
  return r;
}

std::optional<uint8_t> PcieType(std::span<const uint8_t> cfg) {
  std::optional<uint16_t> pos = FindCapability(cfg, kPciCapExp);
  if (!pos || *pos + 4u > cfg.size()) return std::nullopt;
  return static_cast<uint8_t>(Le16(cfg, *pos + 2u) >> 4 & 0xf);
}

std::string AcsCtrlToString(uint16_t ctrl) {
  static constexpr const char* kNames[] = {"SV", "TB", "RR", "CR", "UF", "EC", "DT"};
  std::vector<std::string> on;
  for (int i = 0; i < 7; ++i)
    if (ctrl & (1u << i)) on.emplace_back(kNames[i]);
  return on.empty() ? "none" : absl::StrJoin(on, "+");
}

}  // namespace cmb
