// Decoding of the NVMe Controller Memory Buffer registers CMBLOC and CMBSZ
// (NVMe Base Specification 1.4+, section 3.1.11-12), as the kernel shows them
// in /sys/class/nvme/nvmeX/cmbloc and cmbsz (decimal u32).
//
//   absl::StatusOr<cmb::CmbRegisters> r = cmb::DecodeCmb(cmbloc, cmbsz);
//   r->size_bytes;   // SZ * 4 KiB << (4 * SZU)
//   r->sz.rds && r->sz.wds;  // data can be read from / written to the CMB
//
// Threads: pure functions on values; safe from any thread.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace cmb {

struct CmbLoc {
  uint8_t bir = 0;       // BAR indicator: which BAR holds the CMB (bits 2:0)
  bool cqmms = false;    // queue mixed memory support (bit 3)
  bool cqpds = false;    // queue physically discontiguous support (bit 4)
  bool cdpmls = false;   // data pointer mixed locations support (bit 5)
  bool cdpcils = false;  // data pointer and command independent locations (bit 6)
  bool cdmmms = false;   // data metadata mixed memory support (bit 7)
  bool cqda = false;     // queue dword alignment (bit 8)
  uint32_t ofst = 0;     // offset in SZU units (bits 31:12)
};

struct CmbSz {
  bool sqs = false;    // submission queues may live in the CMB (bit 0)
  bool cqs = false;    // completion queues (bit 1)
  bool lists = false;  // PRP/SGL lists (bit 2)
  bool rds = false;    // read data: controller->host transfers may target it (bit 3)
  bool wds = false;    // write data: host->controller transfers may source it (bit 4)
  uint8_t szu = 0;     // size unit: 4 KiB << (4 * SZU), SZU <= 6 (bits 11:8)
  uint32_t sz = 0;     // size in SZU units (bits 31:12)
};

struct CmbRegisters {
  uint32_t cmbloc_raw = 0;
  uint32_t cmbsz_raw = 0;
  CmbLoc loc;
  CmbSz sz;
  uint64_t unit_bytes = 0;
  uint64_t size_bytes = 0;
  uint64_t offset_bytes = 0;
};

CmbLoc DecodeCmbLoc(uint32_t raw);
CmbSz DecodeCmbSz(uint32_t raw);
// Errors on a reserved SZU (7..15) or a reserved BIR (1, 6, 7: BAR1 is BAR0's
// upper half for a 64-bit BAR0).
absl::StatusOr<CmbRegisters> DecodeCmb(uint32_t cmbloc, uint32_t cmbsz);

}  // namespace cmb
