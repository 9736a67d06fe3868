// Identify: the NVMe Identify Controller / Namespace fields the copy planner
// needs and sysfs does not show (ONCS Copy support, Copy limits), read with
// libnvme through the namespace's generic device. Linux lets unprivileged
// users who can open /dev/ngXnY send these Identify commands
// (nvme_cmd_allowed() in drivers/nvme/host/ioctl.c).
//
//   absl::StatusOr<cmb::IdentifyInfo> id = cmb::Identify(ns);
//   if (id.ok() && id->copy_supported) ... NVMe Copy, at most id->max_copy_lbas per command
//
// Threads: each call opens its own fd; safe from any thread.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "cmb/discovery.h"

namespace cmb {

struct IdentifyInfo {
  uint16_t oncs = 0;             // Optional NVM Command Support
  bool copy_supported = false;   // ONCS bit 8
  uint32_t mssrl = 0;            // Maximum Single Source Range Length (LBAs)
  uint32_t mcl = 0;              // Maximum Copy Length (LBAs)
  uint32_t msrc = 0;             // Maximum Source Range Count (0's based)
  // LBAs one single-range Copy may move: min(MSSRL, MCL), 0 when unsupported.
  uint32_t max_copy_lbas() const;
};

absl::StatusOr<IdentifyInfo> Identify(const Namespace& ns);

}  // namespace cmb
