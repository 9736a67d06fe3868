// Image several drives from one: each chunk is read once into the CMB and
// written to every destination; a failing one does not stop the others.
//   fan_out BYTES SRC DST...      e.g. fan_out 16777216 nvme1:1 nvme2:1 nvme3:1
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cmb/copier.h"
#include "cmb/status_macros.h"

absl::Status FanOut(uint64_t bytes, const char* src, const std::vector<std::string>& dsts) {
  cmb::SysRoot root = cmb::SysRoot::FromEnvironment();
  CMB_ASSIGN_OR_RETURN(cmb::System sys, cmb::Discover(root));
  CMB_ASSIGN_OR_RETURN(cmb::Copier copier, cmb::Copier::Open(root, sys, src, dsts, {.bytes = bytes}));
  const uint64_t lbas = bytes / copier.plan().src.ns.lba_size;
  CMB_ASSIGN_OR_RETURN(uint64_t id, copier.Submit({{.src_lba = 0, .dst_lba = 0, .count = lbas}}));
  CMB_ASSIGN_OR_RETURN(cmb::CopyCompletion done, copier.Wait(id));
  for (const cmb::DstCompletion& d : done.dsts)
    std::printf("%s: %llu bytes%s%s\n", d.name.c_str(), static_cast<unsigned long long>(d.prefix_bytes),
                d.status.ok() ? "" : ", failed: ", std::string(d.status.message()).c_str());
  return done.status;
}

int main(int argc, char** argv) {
  if (argc < 4) return std::fprintf(stderr, "usage: %s BYTES SRC DST...\n", argv[0]), 2;
  absl::Status s = FanOut(std::strtoull(argv[1], nullptr, 0), argv[2], {argv + 3, argv + argc});
  if (!s.ok()) std::fprintf(stderr, "fan_out: %s\n", std::string(s.message()).c_str());
  return s.ok() ? 0 : 1;
}
