// DataPath: how one end's commands reach its namespace. Passthrough sends
// NVMe commands through io_uring on the generic device (/dev/ngXnY); block
// sends O_DIRECT reads and writes through io_uring to the block device
// (/dev/nvmeXnY), as p2pmem-test and fio do. The planner (planner.h) picks
// one per end and says why; a caller may force one (CopyRequest::path).
//
//   absl::StatusOr<cmb::DataPath> p = cmb::ParseDataPath("block");
//   std::cout << cmb::DataPathName(plan.dst.path);   // "passthrough"
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cmb {

enum class DataPath {
  kPassthrough,  // NVMe commands on /dev/ngXnY: any command (Copy, flush), P2P since 6.2
  kBlock,        // O_DIRECT read/write/fsync on /dev/nvmeXnY: the block layer builds the commands
};
const char* DataPathName(DataPath p);  // "passthrough", "block"
absl::StatusOr<DataPath> ParseDataPath(absl::string_view text);

}  // namespace cmb
