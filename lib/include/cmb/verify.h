// Verify: compares a copy's source and destination ranges through host
// memory (never the CMB, so a faulty P2P path cannot hide its own errors),
// with a CRC-32C of each side and the first mismatching LBA.
//
//   absl::StatusOr<cmb::VerifyResult> v = cmb::VerifyCopy(*plan);
//   if (v.ok() && !v->match) std::cerr << "first bad dst LBA " << *v->first_dst_lba;
//
// Threads: VerifyCopy blocks the calling thread and uses its own fds.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "cmb/copy_plan.h"

namespace cmb {

struct VerifyResult {
  bool match = false;
  uint64_t bytes = 0;            // compared
  uint32_t src_crc32c = 0, dst_crc32c = 0;
  uint64_t mismatched_dst_lbas = 0;
  std::optional<uint64_t> first_src_lba, first_dst_lba;  // of the first differing byte
  double seconds = 0;
};

// Reads plan.bytes from both sides; `stop` (polled per batch) cancels.
absl::StatusOr<VerifyResult> VerifyCopy(const CopyPlan& plan, const std::function<bool()>& stop = {});

}  // namespace cmb
