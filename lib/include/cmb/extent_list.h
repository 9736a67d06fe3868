// Extents, and extent lists as text: what a Copier request is made of
// (copier.h). The text form is one extent per line, "SRC_LBA DST_LBA COUNT"
// (decimal or 0x hex, separated by spaces or tabs); '#' starts a comment and
// blank lines are skipped, as compaction or migration tools can write them.
//
//   absl::StatusOr<std::vector<cmb::Extent>> e = cmb::ParseExtents("0 4096 2048\n9000 100 8  # tail\n");
//   // e->size() == 2; (*e)[1].count == 8
//
// Errors (InvalidArgument) name the line and what is wrong with it: a field
// missing or extra, not a number, a COUNT of 0, an LBA range that wraps, or
// more than kMaxExtents lines. Overlap and device limits are checked where
// the devices are known (Copier::Submit).
//
// Threads: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cmb {

struct Extent {
  uint64_t src_lba = 0, dst_lba = 0;
  uint64_t count = 0;  // source LBAs; count * source LBA size must be whole destination LBAs
};

inline constexpr size_t kMaxExtents = 1 << 20;

absl::StatusOr<std::vector<Extent>> ParseExtents(absl::string_view text);

}  // namespace cmb
