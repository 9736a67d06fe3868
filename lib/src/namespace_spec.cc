#include "cmb/namespace_spec.h"

#include <climits>
#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cmb/status_macros.h"

namespace cmb {
namespace {

absl::Status BadSpec(absl::string_view spec, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "'", spec, "' ", why,
      "; expected /dev/ngXnY, /dev/nvmeXnY, nvmeX:NSID or a PCI address with a namespace (0000:03:00.0:1)"));
}

std::string Known(const System& sys) {
  std::vector<std::string> names;
  for (const Controller& c : sys.controllers)
    for (const Namespace& n : c.namespaces) names.push_back(n.generic_device.empty() ? n.block_device : n.generic_device);
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

absl::StatusOr<NamespaceRef> ByNsid(const Controller& c, uint32_t nsid, absl::string_view spec) {
  for (const Namespace& n : c.namespaces)
    if (n.nsid == nsid) return NamespaceRef{&c, &n};
  return absl::NotFoundError(absl::StrCat("'", spec, "': controller ", c.name, " has no namespace ", nsid));
}

absl::StatusOr<NamespaceRef> ByDevice(const System& sys, absl::string_view dev) {
  for (const Controller& c : sys.controllers)
    for (const Namespace& n : c.namespaces)
      if ((!n.generic_device.empty() && n.generic_device == dev) || n.block_device == dev)
        return NamespaceRef{&c, &n};
  return absl::NotFoundError(absl::StrCat("no NVMe namespace ", dev, " (known: ", Known(sys), ")"));
}

}  // namespace

absl::StatusOr<NamespaceRef> ResolveNamespace(const SysRoot& root, const System& sys, absl::string_view spec) {
  if (spec.empty()) return BadSpec(spec, "is empty");
  if (spec.front() == '/') {
    if (!absl::StartsWith(spec, "/dev/")) return BadSpec(spec, "is not under /dev");
    absl::StatusOr<NamespaceRef> r = ByDevice(sys, spec);
    if (r.ok()) return r;
    // A symlink such as /dev/disk/by-id/...: follow it, inside the root.
    absl::StatusOr<std::string> real = root.Resolve(spec);
    if (!real.ok()) return r.status();
    std::string base = real->substr(real->rfind('/') + 1);
    return ByDevice(sys, "/dev/" + base);
  }
  if (absl::StartsWith(spec, "ng") || (absl::StartsWith(spec, "nvme") && spec.find(':') == spec.npos))
    return ByDevice(sys, absl::StrCat("/dev/", spec));
  size_t colon = spec.rfind(':');
  if (colon == spec.npos) return BadSpec(spec, "names no namespace");
  absl::string_view head = spec.substr(0, colon), tail = spec.substr(colon + 1);
  uint32_t nsid = 0;
  if (!absl::SimpleAtoi(tail, &nsid) || nsid == 0 || tail.empty() || !absl::ascii_isdigit(tail[0]))
    return BadSpec(spec, "has no valid NSID after the last ':'");
  if (absl::StartsWith(head, "nvme")) {
    const Controller* c = sys.FindController(head);
    if (c == nullptr) return absl::NotFoundError(absl::StrCat("'", spec, "': no controller ", head));
    return ByNsid(*c, nsid, spec);
  }
  absl::StatusOr<PciAddress> a = PciAddress::Parse(head);
  if (!a.ok()) return BadSpec(spec, absl::StrCat("has no controller name or PCI address before ':", tail, "'"));
  const Controller* c = sys.FindByAddress(*a);
  if (c == nullptr)
    return absl::NotFoundError(absl::StrCat("'", spec, "': no NVMe controller at ", a->ToString()));
  return ByNsid(*c, nsid, spec);
}

absl::StatusOr<SpdkRange> ParseSpdkRange(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '-');
  if (parts.size() != 4)
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not <bdf>-<nsid>-<slba>-<nlbas> (SPDK cmb_copy's form, e.g. 0000:03:00.0-1-0-2048)"));
  SpdkRange r;
  CMB_ASSIGN_OR_RETURN(r.bdf, PciAddress::Parse(parts[0]));
  CMB_ASSIGN_OR_RETURN(uint64_t nsid, ParseCount(parts[1]));
  if (nsid == 0 || nsid > UINT32_MAX) return absl::InvalidArgumentError(absl::StrCat("'", text, "': bad NSID"));
  r.nsid = static_cast<uint32_t>(nsid);
  CMB_ASSIGN_OR_RETURN(r.slba, ParseCount(parts[2]));
  CMB_ASSIGN_OR_RETURN(r.nlbas, ParseCount(parts[3]));
  if (r.nlbas == 0) return absl::InvalidArgumentError(absl::StrCat("'", text, "': the LBA count is 0"));
  return r;
}

absl::StatusOr<uint64_t> ParseCount(absl::string_view text) {
  uint64_t v = 0;
  bool ok;
  if (absl::StartsWithIgnoreCase(text, "0x"))
    ok = text.size() > 2 && absl::SimpleHexAtoi(text.substr(2), &v) && absl::ascii_isxdigit(text[2]);
  else
    ok = !text.empty() && absl::ascii_isdigit(text[0]) && absl::SimpleAtoi(text, &v);
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an unsigned integer"));
  return v;
}

absl::StatusOr<uint64_t> ParseSize(absl::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && absl::ascii_isdigit(text[digits])) ++digits;
  if (digits == 0) return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a size (e.g. 4096, 64K, 1G)"));
  uint64_t v = 0;
  if (!absl::SimpleAtoi(text.substr(0, digits), &v))
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is too large"));
  std::string suffix = absl::AsciiStrToLower(text.substr(digits));
  int shift = -1;
  for (auto [s, n] : {std::pair<const char*, int>{"", 0}, {"b", 0}, {"k", 10}, {"kib", 10}, {"m", 20}, {"mib", 20},
                      {"g", 30}, {"gib", 30}, {"t", 40}, {"tib", 40}})
    if (suffix == s) shift = n;
  if (shift < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "': unknown size suffix '", text.substr(digits), "' (use K, M, G or T)"));
  if (shift > 0 && v > (UINT64_MAX >> shift))
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is too large"));
  return v << shift;
}

}  // namespace cmb
