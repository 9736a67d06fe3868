// NvmeStatus: the NVMe status field of a completion, decoded. A leaf: it
// depends on nothing else of cmb, so the status decoder (lib/src) and the
// queue's Completion (nvme_queue.h) both use it without reaching each other.
//
//   if (c.nvme && c.nvme->dnr) ...   // Completion::nvme: the same command would fail again
//
// Threads: a value type.
#pragma once

#include <cstdint>

namespace cmb {

// The NVMe status field as the kernel returns it (the CQE's status >> 1).
struct NvmeStatus {
  uint8_t sct = 0;    // Status Code Type: 0 generic, 1 command specific, 2 media, 3 path, 7 vendor
  uint8_t sc = 0;     // Status Code, meaning per SCT (NVMe base spec, "Status Field")
  uint8_t crd = 0;    // Command Retry Delay: 0 none, else CRDT1..3 of Identify Controller
  bool more = false;  // the Error Information log page has more (nvme error-log)
  bool dnr = false;   // Do Not Retry: the same command would fail again
};

}  // namespace cmb
