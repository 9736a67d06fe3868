// A small PCI ID list, in pci.ids' format (tabs matter), with the IDs of the
// fake trees (fake_sysfs.h: QEMU's host bridge, ports and NVMe controller)
// and a whitelisted host bridge. Tests write it where libpci's list lives in
// their tree, so names never come from the host's list.
//
//   t.Write(cmbtest::kPciIdsPath, cmbtest::kPciIds);
#pragma once

namespace cmbtest {

inline constexpr char kPciIdsPath[] = "/usr/share/misc/pci.ids";

inline constexpr char kPciIds[] =
    "# test list\n"
    "104c  Texas Instruments\n"
    "\t8232  XIO3130 PCI Express Switch (Upstream)\n"
    "\t8233  XIO3130 PCI Express Switch (Downstream)\n"
    "1b36  Red Hat, Inc.\n"
    "\t000c  QEMU PCIe Root port\n"
    "\t0010  QEMU NVM Express Controller\n"
    "8086  Intel Corporation\n"
    "\t0b25  Sapphire Rapids DSA\n"  // whitelisted since 7.2
    "\t29c0  82G33/G31/P35/P31 Express DRAM Controller\n"
    "C 01  Mass storage controller\n"
    "\t08  Non-Volatile memory controller\n"
    "C 06  Bridge\n"
    "\t00  Host bridge\n"
    "\t04  PCI bridge\n";

}  // namespace cmbtest
