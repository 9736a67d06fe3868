#include "cmb/own_cmb.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "cmb/fix.h"
#include "absl/strings/str_format.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_queue.h"
#include "cmb/status_macros.h"
#include "block_queue.h"

namespace cmb {
namespace {

// QEMU's emulated NVMe controller (hw/nvme/ctrl.c, PCI 1b36:0010) takes the
// kind of memory of a command from the address in the command: for an SGL
// segment, the list's address. nvme_map_addr() then refuses data in the CMB
// when the list was in host memory (NVME_INVALID_USE_OF_CMB | NVME_DNR), though
// nvme_init_cmb() sets CMBLOC.CDPMLS and CDPCILS. Read in QEMU 7.2 and 10.0.
bool IsQemuNvme(const Controller& c) { return c.pci_vendor == 0x1b36 && c.pci_device == 0x0010; }

std::string CmblocBits(const Controller& c) {
  if (!c.cmb) return "CMBLOC not shown by the kernel";
  return absl::StrFormat("CMBLOC.CDPMLS=%d CDPCILS=%d", c.cmb->loc.cdpmls, c.cmb->loc.cdpcils);
}

}  // namespace

const char* OwnCmbOutcomeName(OwnCmbOutcome o) {
  switch (o) {
    case OwnCmbOutcome::kFull: return "full";
    case OwnCmbOutcome::kPage: return "page";
    case OwnCmbOutcome::kProbe: return "probe";
  }
  return "probe";
}

OwnCmbVerdict PredictOwnCmb(const KernelRules& rules, const Controller& owner) {
  OwnCmbVerdict v;
  std::string kernel = absl::StrCat("Linux ", rules.rules_version);
  switch (rules.multi_page_p2p) {
    case P2pDataPointer::kInCommand:
      v.outcome = OwnCmbOutcome::kFull;
      v.reason = absl::StrCat(kernel, " points at data in the CMB from the command itself (one SGL data block or PRPs)");
      return v;
    case P2pDataPointer::kUnknown:
      v.reason = absl::StrCat(kernel, ": how it describes multi-page P2P data is not known to cmb (", CmblocBits(owner),
                              "); one read into the CMB tells");
      return v;
    case P2pDataPointer::kHostList:
      break;
  }
  std::string how = absl::StrCat(kernel, " sends a command of more than one page with its SGL list in host memory "
                                 "and the data in the CMB (a one-page command stays one inline descriptor)");
  if (IsQemuNvme(owner)) {
    v.outcome = OwnCmbOutcome::kPage;
    v.command_bytes_limit = KernelRules::kSingleDescriptorBytes;
    v.reason = absl::StrCat(how, "; QEMU's NVMe controller refuses that mix (Invalid Use of Controller Memory Buffer) "
                            "although its ", CmblocBits(owner), " says it accepts it: one-page commands");
  } else if (owner.cmb && !owner.cmb->loc.cdpmls) {
    v.outcome = OwnCmbOutcome::kPage;
    v.command_bytes_limit = KernelRules::kSingleDescriptorBytes;
    v.reason = absl::StrCat(how, "; ", CmblocBits(owner),
                            ": the controller does not accept data pointers that mix host memory and its CMB: "
                            "one-page commands");
  } else {
    v.reason = absl::StrCat(how, "; ", CmblocBits(owner), " says the controller accepts that; one read proves it");
  }
  return v;
}

namespace {

// The read, and with `write_back` the write of the same bytes, on `q`
// (NvmeQueue or BlockQueue): the status of the first that failed, or OK.
template <typename Queue>
absl::StatusOr<absl::Status> ReadAndWriteBack(Queue& q, uint64_t lba, const DmaSpan& buf, bool write_back) {
  constexpr std::chrono::milliseconds kWait(30000);
  CMB_RETURN_IF_ERROR(q.Read(lba, buf, 0));
  CMB_ASSIGN_OR_RETURN(Completion c, q.Wait(kWait));
  if (!c.status.ok() || !write_back) return c.status;
  // The bytes just read go back where they came from: content unchanged.
  CMB_RETURN_IF_ERROR(q.Write(lba, buf, 1));
  CMB_ASSIGN_OR_RETURN(c, q.Wait(kWait));
  if (c.status.ok()) return c.status;
  return Reworded(c.status, absl::StrCat("the read was accepted, the write back refused: ", c.status.message()));
}

}  // namespace

absl::StatusOr<OwnCmbProbe> ProbeOwnCmb(const Namespace& ns, const PciAddress& owner, uint64_t lba, uint64_t bytes,
                                        bool write_back, DataPath path) {
  if (bytes == 0 || ns.lba_size == 0 || bytes % ns.lba_size != 0)
    return absl::InvalidArgumentError(absl::StrCat("a ", bytes, "-byte proof is not a whole number of ", ns.lba_size,
                                                   "-byte LBAs"));
  CMB_ASSIGN_OR_RETURN(DmaBuffer mem, AllocateP2pMem(ns.root, owner, bytes));
  // The allocation is page-rounded; the commands move exactly `bytes`.
  CMB_ASSIGN_OR_RETURN(DmaSpan buf, mem.Slice(0, bytes));
  const QueueOptions qo{.depth = 1, .writable = write_back};
  absl::StatusOr<absl::Status> done;
  if (path == DataPath::kBlock) {
    CMB_ASSIGN_OR_RETURN(std::unique_ptr<internal::BlockQueue> q, internal::BlockQueue::Open(ns, qo, owner));
    done = ReadAndWriteBack(*q, lba, buf, write_back);
  } else {
    CMB_ASSIGN_OR_RETURN(NvmeQueue q, NvmeQueue::Open(ns, qo, owner));
    done = ReadAndWriteBack(q, lba, buf, write_back);
  }
  if (!done.ok()) return done.status();
  return OwnCmbProbe{.bytes = bytes, .wrote_back = write_back, .accepted = done->ok(),
                     .status = done->ok() ? "OK" : std::string(done->message()), .path = path};
}

}  // namespace cmb
