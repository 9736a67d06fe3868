// Copy extents of one namespace to another through a CMB, asynchronously
// (cmb::Copier), and report each destination's exact prefix.
//   copy SRC DST        e.g. copy nvme1:1 nvme2:1
#include <cstdio>

#include "cmb/copier.h"
#include "cmb/status_macros.h"

absl::Status Copy(const char* src, const char* dst) {
  cmb::SysRoot root = cmb::SysRoot::FromEnvironment();
  CMB_ASSIGN_OR_RETURN(cmb::System sys, cmb::Discover(root));
  CMB_ASSIGN_OR_RETURN(cmb::Copier copier, cmb::Copier::Open(root, sys, src, {dst}));
  // Two extents, as a compaction would hand them over: (src LBA, dst LBA, LBAs).
  CMB_ASSIGN_OR_RETURN(uint64_t id, copier.Submit({{0, 0, 2048}, {8192, 2048, 16}}));
  CMB_ASSIGN_OR_RETURN(cmb::CopyCompletion done, copier.Wait(id));
  std::printf("%llu of %llu bytes copied\n", static_cast<unsigned long long>(done.prefix_bytes()),
              static_cast<unsigned long long>(done.bytes_total));
  return done.status;
}

int main(int argc, char** argv) {
  if (argc != 3) return std::fprintf(stderr, "usage: %s SRC DST\n", argv[0]), 2;
  absl::Status s = Copy(argv[1], argv[2]);
  if (!s.ok()) std::fprintf(stderr, "copy: %s\n", std::string(s.message()).c_str());
  return s.ok() ? 0 : 1;
}
