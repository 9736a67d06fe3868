// List the NVMe controllers, their CMBs, and whether the running kernel lets
// each other controller DMA into each published CMB (and why not).
//   discover
#include <cstdio>

#include "cmb/discovery.h"
#include "cmb/p2p_path.h"

int main(int argc, char**) {
  if (argc != 1) return std::fprintf(stderr, "usage: discover\n"), 2;
  cmb::SysRoot root = cmb::SysRoot::FromEnvironment();
  absl::StatusOr<cmb::System> sys = cmb::Discover(root);
  if (!sys.ok()) return std::fprintf(stderr, "discover: %s\n", std::string(sys.status().message()).c_str()), 1;
  for (const cmb::Controller& c : sys->controllers)
    std::printf("%s %s serial %s, CMB %llu bytes%s\n", c.name.c_str(), c.address ? c.address->ToString().c_str() : "-",
                c.serial.c_str(), static_cast<unsigned long long>(c.p2pmem ? c.p2pmem->size_bytes : 0),
                c.p2pmem && c.p2pmem->published ? ", published" : "");
  for (size_t p : sys->Providers())
    for (const cmb::Controller& c : sys->controllers) {
      if (!c.address || c.address == sys->controllers[p].address) continue;
      absl::StatusOr<cmb::P2pPath> path = cmb::PredictP2pPath(root, *sys->controllers[p].address, *c.address);
      if (path.ok())
        std::printf("%s -> %s: %s (%s)\n", sys->controllers[p].name.c_str(), c.name.c_str(),
                    cmb::PathVerdictName(path->verdict), path->reason.c_str());
    }
  return 0;
}
