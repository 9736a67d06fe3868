// Read proof: shows, without writing anything, that P2P DMA through a CMB
// carries the right bytes on this machine. For a (CMB, namespace) pair whose
// verdict allows P2P, the namespace's controller reads N bytes into the CMB,
// then the same range into host memory; the two must have the same CRC-32C.
// The write direction (CMB to namespace) cannot be proven without writing.
//
//   std::vector<cmb::ReadProofPair> pairs = cmb::PlanReadProofs(sys, paths, {.bytes = 4 << 20});
//   for (const cmb::ReadProofPair& p : pairs) {
//     if (!p.tried()) { std::cout << p.skipped << "\n"; continue; }
//     absl::StatusOr<cmb::ReadProof> r = cmb::ProveRead(p);
//     // r->match: the CMB and host memory got the same bytes
//   }
//
// The plan reads sysfs only (through the System and its P2P verdicts); the
// proof opens the namespace read-only, through passthrough or its block
// device, and never sends a write.
//
// Threads: PlanReadProofs is pure; ProveRead runs its commands on a queue of
// its own and returns when they are done.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/data_path.h"
#include "cmb/discovery.h"
#include "cmb/p2p_path.h"

namespace cmb {

struct ReadProofOptions {
  uint64_t bytes = 4 << 20;         // per pair; less when the namespace or the free p2pmem is smaller
  std::optional<DataPath> path{};   // nullopt: passthrough, or the block device when only it may be opened
};

// One (CMB, namespace) pair, and how it will be read, or why it will not be.
struct ReadProofPair {
  PciAddress provider;       // the controller whose CMB gets the bytes
  PciAddress client;         // the controller that reads its namespace into it
  std::string provider_name{}, client_name{};  // "nvme0"
  Namespace ns{};            // the namespace read
  bool own_cmb = false;      // provider == client
  std::string verdict{};     // the P2P verdict's name ("switch", "unsupported", ...)
  std::string skipped{};     // why the pair is not read; empty when it is
  uint64_t bytes = 0;        // to read: whole LBAs, at most the namespace and the free p2pmem
  uint64_t command_bytes = 0;  // per read command
  DataPath path = DataPath::kPassthrough;
  std::string note{};        // how the size or path was chosen, when not plainly
  bool tried() const { return skipped.empty(); }
};

// Every published CMB against every namespace of every PCIe controller: the
// pairs `paths` allows are planned, the others carry the verdict's reason.
// An own-CMB pair follows the own-CMB prediction (own_cmb.h): one-page
// commands where the kernel and device allow no more.
std::vector<ReadProofPair> PlanReadProofs(const System& sys, const std::vector<P2pPath>& paths,
                                          const ReadProofOptions& options);

struct ReadProof {
  uint64_t bytes = 0;
  bool match = false;         // the CRC-32C of the CMB's bytes equals the host copy's
  uint32_t p2p_crc = 0, host_crc = 0;
  double p2p_seconds = 0, host_seconds = 0;  // the reads alone, not the CRC
  double p2p_mb_s() const { return p2p_seconds > 0 ? bytes / p2p_seconds / 1e6 : 0; }
  double host_mb_s() const { return host_seconds > 0 ? bytes / host_seconds / 1e6 : 0; }
};

// Reads the pair's range into the CMB and into host memory and compares.
// An error Status names what failed: the allocation (with the bytes free),
// the open, or a read the kernel or device refused.
absl::StatusOr<ReadProof> ProveRead(const ReadProofPair& pair);

}  // namespace cmb
