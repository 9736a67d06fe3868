// PciAddress: a PCI function's address, "DDDD:BB:DD.F" as the kernel names it.
//
//   absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse("0000:03:00.0");
//   a->ToString();  // "0000:03:00.0"; "03:00.0" parses too (domain 0)
//
// Threads: a value type.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cmb {

struct PciAddress {
  uint32_t domain = 0;  // 16 bits usually; VMD domains are wider
  uint8_t bus = 0;
  uint8_t device = 0;    // 0..31
  uint8_t function = 0;  // 0..7

  static absl::StatusOr<PciAddress> Parse(absl::string_view text);
  std::string ToString() const;
  auto operator<=>(const PciAddress&) const = default;
};

}  // namespace cmb
