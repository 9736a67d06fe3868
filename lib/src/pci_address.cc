#include "cmb/pci_address.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace cmb {
namespace {

bool ParseHex(absl::string_view s, size_t max_digits, uint32_t limit, uint32_t* out) {
  if (s.empty() || s.size() > max_digits) return false;
  for (char c : s)
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  uint32_t v = 0;
  if (!absl::SimpleHexAtoi(s, &v) || v > limit) return false;
  *out = v;
  return true;
}

}  // namespace

absl::StatusOr<PciAddress> PciAddress::Parse(absl::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a PCI address (expected DDDD:BB:DD.F, e.g. 0000:03:00.0)"));
  };
  std::vector<absl::string_view> colon = absl::StrSplit(text, ':');
  if (colon.size() != 2 && colon.size() != 3) return bad();
  std::vector<absl::string_view> dot = absl::StrSplit(colon.back(), '.');
  if (dot.size() != 2) return bad();
  PciAddress a;
  uint32_t v;
  if (colon.size() == 3) {
    if (!ParseHex(colon[0], 8, 0xffffffffu, &v)) return bad();
    a.domain = v;
  }
  if (!ParseHex(colon[colon.size() - 2], 2, 0xff, &v)) return bad();
  a.bus = static_cast<uint8_t>(v);
  if (!ParseHex(dot[0], 2, 0x1f, &v)) return bad();
  a.device = static_cast<uint8_t>(v);
  if (!ParseHex(dot[1], 1, 7, &v)) return bad();
  a.function = static_cast<uint8_t>(v);
  return a;
}

std::string PciAddress::ToString() const {
  return absl::StrFormat("%04x:%02x:%02x.%x", domain, bus, device, function);
}

}  // namespace cmb
