// Private: NVMe completion statuses as absl::Status codes a caller can branch
// on. `res` is what io_uring passthrough returns for a failed command: the
// CQE status field shifted right by one (phase bit dropped, as the kernel's
// nvme_req(req)->status), i.e. SC bits 0-7, SCT 8-10, CRD 11-12, More 13,
// DNR 14. The commands are I/O commands of the NVM command set, so
// command-specific codes (SCT 1) are read as such.
//
//   if (res > 0) return NvmeStatusError(res, "/dev/ng1n1");
//   // NVMe status on /dev/ng1n1: LBA Out of Range: ... (SCT 0x0 SC 0x80, do not retry): ...
//
// The mapping is one table, NvmeStatusTable() (nvme_status.cc): a code per
// status, Unavailable instead while DNR is clear for temporary conditions,
// and what it means. docs/troubleshooting.md's table is generated from it
// (tests/docs/status_table.cc; unit.status_table_docs checks it is current).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "cmb/fix.h"
#include "cmb/nvme_status.h"

// Private to libcmb: not exported from libcmb.so (tests link libcmb.a).
#pragma GCC visibility push(hidden)
namespace cmb::internal {

using ::cmb::Fix;
using ::cmb::NvmeStatus;

// One status: its code, whether it is a temporary condition (Unavailable
// while DNR is clear; `code` once DNR is set), and what it means.
struct NvmeStatusRow {
  uint8_t sct;
  uint8_t sc;
  absl::StatusCode code;
  bool temporary;
  std::string_view advice;  // "$0" stands for KernelSince::kHostListP2p (NvmeStatusAdvice)
  std::optional<Fix::Look> look = std::nullopt;  // where to look further (fix.h)
  // A module parameter whose value avoids the status (queues in the CMB).
  struct Parameter {
    std::string_view module, parameter, value;
  };
  std::optional<Parameter> parameter = std::nullopt;
};
std::span<const NvmeStatusRow> NvmeStatusTable();  // every status with a meaning
std::string NvmeStatusAdvice(const NvmeStatusRow& row);  // its advice, with the kernel versions filled in
std::string NvmeStatusName(uint8_t sct, uint8_t sc);  // libnvme's description

// The fields of `res`; nullopt when res <= 0 (success, or a negated errno).
std::optional<NvmeStatus> DecodeNvmeStatus(int32_t res);

// The Status for NVMe status `res` (> 0) of a command on `device`: a code per
// the table, and a message with libnvme's description, SCT and SC,
// "do not retry" when DNR is set, and what it means for the user.
absl::Status NvmeStatusError(int32_t res, std::string_view device);

}  // namespace cmb::internal
#pragma GCC visibility pop
