// Namespace specs and sizes as users type them on the command line:
//
//   /dev/ng0n1  /dev/nvme0n1  ng0n1  nvme0n1   the kernel's device names
//   nvme0:1                                    controller name, NSID
//   0000:03:00.0:1   03:00.0:1                 controller PCI address, NSID
//   /dev/disk/by-id/nvme-...                   any symlink to one of the above
//
//   absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(root, sys, "0000:03:00.0:1");
//   absl::StatusOr<uint64_t> n = cmb::ParseSize("64M");          // 67108864
//   absl::StatusOr<cmb::SpdkRange> s = cmb::ParseSpdkRange("0000:03:00.0-1-0-2048");
//
// These parse untrusted text: every error names the text and what was expected.
// They are a documented part of the API, for applications that take the same
// text from their users or config files as cmbcp does (sizes with K/M/G/T
// suffixes, counts in decimal or 0x hex, SPDK cmb_copy's ranges); the library
// itself never reads a command line.
//
// Threads: pure parsing; a NamespaceRef points into the System it was resolved
// in, so it is valid only while that System lives.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cmb/discovery.h"
#include "cmb/pci_address.h"
#include "cmb/sysroot.h"

namespace cmb {

struct NamespaceRef {
  const Controller* controller = nullptr;  // points into the System passed in
  const Namespace* ns = nullptr;
};

absl::StatusOr<NamespaceRef> ResolveNamespace(const SysRoot& root, const System& sys, absl::string_view spec);

// SPDK cmb_copy's "<bdf>-<nsid>-<slba>-<nlbas>" (examples/nvme/cmb_copy).
struct SpdkRange {
  PciAddress bdf;
  uint32_t nsid = 0;
  uint64_t slba = 0;
  uint64_t nlbas = 0;
};
absl::StatusOr<SpdkRange> ParseSpdkRange(absl::string_view text);

// A byte count: digits with an optional binary suffix K, M, G, T (also KiB,
// MiB, ...; case-insensitive). Overflow is an error.
absl::StatusOr<uint64_t> ParseSize(absl::string_view text);
// A plain unsigned integer: decimal or 0x-prefixed hex.
absl::StatusOr<uint64_t> ParseCount(absl::string_view text);

}  // namespace cmb
