// The fio command that measures P2P reads into a CMB on the user's own
// hardware, as cmbinfo -v prints it: fio's io_uring_cmd engine on a client's
// /dev/ngXnY with its buffers in the CMB (--iomem=mmapshared: maps the file
// MAP_SHARED at offset 0 and does not truncate it, as p2pmem/allocate needs).
//
//   for (const std::string& line : cmbtools::FioRecipes(sys, paths)) std::cout << line << "\n";
//   // fio --name=p2p-read --filename=/dev/ng1n1 --ioengine=io_uring_cmd --cmd_type=nvme --rw=read
//   //     --bs=128k --iodepth=8 --size=64M --iomem=mmapshared:/sys/bus/pci/devices/0000:03:00.0/p2pmem/allocate
//
// Reads only: the recipe never writes a device.
#pragma once

#include <string>
#include <vector>

#include "cmb/discovery.h"
#include "cmb/p2p_path.h"

namespace cmbtools {

// One command per published CMB with userspace allocation and a client the
// kernel lets reach it (another controller first: a CMB's owner may take only
// one-page commands there, own_cmb.h).
std::vector<std::string> FioRecipes(const cmb::System& sys, const std::vector<cmb::P2pPath>& paths);

}  // namespace cmbtools
