// libFuzzer target: the PCI config-space walk over bytes as read from
// /sys/bus/pci/devices/<bdf>/config (any length, any content, looping or
// out-of-range capability pointers). The first two bytes pick the size the
// kernel would report for the file (256 or 4096, or anything).
//
//   build-fuzz/tests/fuzz/pci_config_fuzz tests/fuzz/corpus/pci_config
#include <cstddef>
#include <cstdint>
#include <span>

#include "cmb/pci_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t file_size = data[0] | (size_t{data[1]} << 8);
  std::span<const uint8_t> cfg(data + 2, size - 2);
  for (uint8_t id : {cmb::kPciCapExp, uint8_t{0x01}, uint8_t{0x05}, uint8_t{0x11}}) {
    if (auto off = cmb::FindCapability(cfg, id)) {
      if (*off >= cfg.size()) __builtin_trap();  // an offset must point inside what was read
    }
  }
  for (uint16_t id : {cmb::kPciExtCapAcs, uint16_t{0x0001}, uint16_t{0x000b}}) {
    if (auto off = cmb::FindExtCapability(cfg, id)) {
      if (*off < 0x100 || *off >= cfg.size()) __builtin_trap();
    }
  }
  cmb::AcsRead acs = cmb::ParseAcs(cfg, file_size);
  (void)cmb::AcsCtrlToString(acs.ctrl);
  (void)cmb::PcieType(cfg);
  return 0;
}
