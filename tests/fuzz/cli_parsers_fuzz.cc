// libFuzzer target: every parser of user-provided text in cmbcp's command line
// (sizes, counts, SPDK ranges, PCI addresses, methods) and the CMB register
// decoder (kernel-provided CMBLOC/CMBSZ). Besides "no crash", it checks the
// parsers' own promises: a parsed size round-trips within its suffix, and a
// parsed PCI address prints back to something that parses to the same value.
//
//   build-fuzz/tests/fuzz/cli_parsers_fuzz tests/fuzz/corpus/cli_parsers
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "cmb/cmb_registers.h"
#include "cmb/copy_plan.h"
#include "cmb/namespace_spec.h"
#include "cmb/pci_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)cmb::ParseSize(text);
  (void)cmb::ParseCount(text);
  (void)cmb::ParseCopyMethod(text);
  if (auto r = cmb::ParseSpdkRange(text); r.ok()) {
    if (r->nsid == 0 || r->nlbas == 0) __builtin_trap();  // both are refused by contract
  }
  if (auto a = cmb::PciAddress::Parse(text); a.ok()) {
    auto again = cmb::PciAddress::Parse(a->ToString());
    if (!again.ok() || again->ToString() != a->ToString()) __builtin_trap();
  }
  if (size >= 8) {
    uint32_t loc, sz;
    std::memcpy(&loc, data, 4);
    std::memcpy(&sz, data + 4, 4);
    if (auto r = cmb::DecodeCmb(loc, sz); r.ok() && r->size_bytes != r->unit_bytes * r->sz.sz) __builtin_trap();
  }
  return 0;
}
