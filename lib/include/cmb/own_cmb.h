// A controller and its own CMB: whether the controller accepts commands whose
// data is in its own CMB, as the running kernel describes them. Other
// controllers DMA to the CMB as to any peer; the owner must recognise the
// address as its own and accept the way the kernel points at it
// (kernel_rules.h, P2pDataPointer). Since 7.3 a command of more than one page
// carries an SGL list in host memory with the data in the CMB, which a
// controller may refuse (NVMe status 0x4012, Invalid Use of Controller Memory
// Buffer): QEMU's does, although its CMBLOC says CDPMLS=1.
//
//   cmb::OwnCmbVerdict v = cmb::PredictOwnCmb(cmb::KernelRules::ForRunning(root), owner);
//   if (v.outcome == cmb::OwnCmbOutcome::kProbe) {
//     absl::StatusOr<cmb::OwnCmbProbe> p = cmb::ProbeOwnCmb(ns, *owner.address, 0, 8192);
//     // p->accepted: the device took an 8 KiB read into its own CMB
//   }
//
// The probe reads the owner's namespace into a small buffer of its own CMB;
// for a destination it then writes those same bytes back from the CMB, at the
// same LBAs (inside the range the copy overwrites anyway), so the direction
// the copy will use is the one proven.
//
// Threads: PredictOwnCmb is pure; ProbeOwnCmb runs one command on its own queue.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "cmb/data_path.h"
#include "cmb/discovery.h"
#include "cmb/kernel_rules.h"

namespace cmb {

enum class OwnCmbOutcome {
  kFull,   // commands of any size work (the kernel points at the data in the command)
  kPage,   // only one-page commands work: larger ones are refused
  kProbe,  // cannot be known without asking the device: one read tells
};
const char* OwnCmbOutcomeName(OwnCmbOutcome o);  // "full", "page", "probe"

struct OwnCmbVerdict {
  OwnCmbOutcome outcome = OwnCmbOutcome::kProbe;
  uint64_t command_bytes_limit = 0;  // 0: none beyond max transfer; kPage: one page
  std::string reason;                // the kernel, the CMBLOC bits, the device
};

// From the kernel's rules and the controller's CMBLOC and PCI ID; never I/O.
OwnCmbVerdict PredictOwnCmb(const KernelRules& rules, const Controller& owner);

// What one real read into the owner's own CMB did.
struct OwnCmbProbe {
  uint64_t bytes = 0;
  bool wrote_back = false;  // the read was followed by a write of the same bytes
  bool accepted = false;
  std::string status;  // "OK", or the NVMe status / errno as the queue explained it
  DataPath path = DataPath::kPassthrough;  // the path the commands took
};

// Reads `bytes` at `lba` of `ns` (a namespace of `owner`) into `owner`'s own
// CMB and, with `write_back`, writes them back to the same LBAs from there.
// An error Status means the probe could not be run (no p2pmem free, the
// device cannot be opened); a refusal by the device or kernel is accepted=false.
// `path`: through passthrough or the block device (data_path.h).
absl::StatusOr<OwnCmbProbe> ProbeOwnCmb(const Namespace& ns, const PciAddress& owner, uint64_t lba, uint64_t bytes,
                                        bool write_back, DataPath path = DataPath::kPassthrough);

}  // namespace cmb
