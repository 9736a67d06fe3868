// ExplainIoFailure: a failed NVMe command in words a user can act on. A
// refused P2P pair gets the running kernel's rule and the P2P path's
// prediction with its fix; a removed device, missing P2P memory, a
// passthrough the kernel lacks, or a permission the kernel's command filter
// refused each get their cause; an NVMe status is decoded (nvme_status.h).
//
//   absl::Status s = cmb::ExplainIoFailure(c.res, ns, {.client = ctrl, .provider = cmb});
//
// Apart from NvmeQueue because explaining reads sysfs and predicts paths,
// which the queue, the leaf of the data path, must not depend on. Queues use
// it by default (QueueOptions::explain).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "cmb/discovery.h"
#include "cmb/nvme_queue.h"

namespace cmb {

// OK for res 0; res < 0 is an errno, res > 0 an NVMe status (Completion::res).
absl::Status ExplainIoFailure(int32_t res, const Namespace& ns, const IoContext& ctx);

}  // namespace cmb
