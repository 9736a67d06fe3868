// cmbinfo --udev NAME: KEY=VALUE lines for udev's IMPORT{program}, so that the
// rules (udev/70-cmb.rules.in) grant the access group only what the
// administrator's list names, and `udevadm info` shows what was decided and
// why. NAME is what the rule's %k gives:
//   0000:03:00.0   a PCI function: the CMB's properties, and CMB_GRANT for
//                  its p2pmem/allocate
//   ng0n1          a namespace's generic device: CMB_GRANT for the node, and
//                  CMB_P2PMEM_GRANT for its controller's p2pmem/allocate
//                  (CMB_PCI), decided again once the namespace exists
//   nvme0          a controller: CMB_P2PMEM_GRANT and CMB_PCI
//
//   cmbinfo --devices /etc/cmb/devices --udev ng0n1
//   CMB_GRANT=no
//   CMB_GRANT_WHY=in use (mounted on /srv), though listed as wwid=eui.52... (/etc/cmb/devices line 2)
#pragma once

#include <string>
#include <vector>

#include "cmb/access_list.h"
#include "cmb/discovery.h"
#include "cmb/p2p_path.h"

namespace cmbinfo {

// Prints the lines for `name`; returns cmbinfo's exit status (3 when no
// NVMe controller or namespace has that name).
// The P2P verdicts (CMB_P2P_*) are predicted only for a PCI address: udev
// runs this for every generic device and controller too, which need none.
int PrintUdev(const cmb::SysRoot& root, const cmb::System& sys, const cmb::AccessList& list, const std::string& name);

}  // namespace cmbinfo
