#include "cmb/cmb_registers.h"

#include "absl/strings/str_format.h"

extern "C" {  // libnvme 1.3 headers lack C++ guards
#include <nvme/types.h>
}

namespace cmb {

// The field layout is libnvme's (NVMe base spec, CMBLOC): BIR 2:0, CQMMS 3,
// CQPDS 4, CDPMLS 5, CDPCILS 6, CDMMMS 7, CQDA 8, OFST 31:12.
CmbLoc DecodeCmbLoc(uint32_t raw) {
  CmbLoc l;
  l.bir = NVME_CMBLOC_BIR(raw);
  l.cqmms = NVME_CMBLOC_CQMMS(raw);
  l.cqpds = NVME_CMBLOC_CQPDS(raw);
  l.cdpmls = NVME_CMBLOC_CDPLMS(raw);  // libnvme spells it CDPLMS
  l.cdpcils = NVME_CMBLOC_CDPCILS(raw);
  l.cdmmms = NVME_CMBLOC_CDMMMS(raw);
  l.cqda = NVME_CMBLOC_CQDA(raw);
  l.ofst = NVME_CMBLOC_OFST(raw);
  return l;
}

CmbSz DecodeCmbSz(uint32_t raw) {
  CmbSz s;
  s.sqs = raw & 1;
  s.cqs = raw >> 1 & 1;
  s.lists = raw >> 2 & 1;
  s.rds = raw >> 3 & 1;
  s.wds = raw >> 4 & 1;
  s.szu = raw >> 8 & 0xf;
  s.sz = raw >> 12;
  return s;
}

absl::StatusOr<CmbRegisters> DecodeCmb(uint32_t cmbloc, uint32_t cmbsz) {
  CmbRegisters r;
  r.cmbloc_raw = cmbloc;
  r.cmbsz_raw = cmbsz;
  r.loc = DecodeCmbLoc(cmbloc);
  r.sz = DecodeCmbSz(cmbsz);
  if (r.sz.szu > 6)
    return absl::InvalidArgumentError(
        absl::StrFormat("CMBSZ 0x%08x: size unit SZU=%u is reserved (valid 0..6)", cmbsz, r.sz.szu));
  if (r.loc.bir == 1 || r.loc.bir > 5)
    return absl::InvalidArgumentError(
        absl::StrFormat("CMBLOC 0x%08x: BAR indicator BIR=%u is reserved", cmbloc, r.loc.bir));
  r.unit_bytes = uint64_t{4096} << (4 * r.sz.szu);
  r.size_bytes = r.unit_bytes * r.sz.sz;
  r.offset_bytes = r.unit_bytes * r.loc.ofst;
  return r;
}

}  // namespace cmb
