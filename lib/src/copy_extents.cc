#include "copy_extents.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/status_macros.h"

namespace cmb::internal {
namespace {

// Half-open LBA intervals [first, end) with the extent each came from.
using Spans = std::vector<std::tuple<uint64_t, uint64_t, size_t>>;

// `a` against itself (b empty), or each of `a` against `b`.
absl::Status Overlaps(Spans a, Spans b, const std::string& what) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const bool self = b.empty();
  if (self) b = a;
  size_t j = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (self) {
      if (i + 1 < a.size() && std::get<0>(a[i + 1]) < std::get<1>(a[i]))
        return absl::FailedPreconditionError(absl::StrFormat(
            "extents %u and %u overlap %s (LBAs %u..%u and %u..%u)", std::get<2>(a[i]), std::get<2>(a[i + 1]), what,
            std::get<0>(a[i]), std::get<1>(a[i]) - 1, std::get<0>(a[i + 1]), std::get<1>(a[i + 1]) - 1));
      continue;
    }
    while (j < b.size() && std::get<1>(b[j]) <= std::get<0>(a[i])) ++j;
    if (j < b.size() && std::get<0>(b[j]) < std::get<1>(a[i]))
      return absl::FailedPreconditionError(absl::StrFormat(
          "extent %u's source LBAs %u..%u overlap extent %u's destination LBAs %u..%u %s", std::get<2>(a[i]),
          std::get<0>(a[i]), std::get<1>(a[i]) - 1, std::get<2>(b[j]), std::get<0>(b[j]), std::get<1>(b[j]) - 1, what));
  }
  return absl::OkStatus();
}

// One extent inside every end, in whole units; its bytes.
absl::StatusOr<uint64_t> CheckOne(const CopyEnd& src, const std::vector<const CopyEnd*>& dsts, uint64_t unit,
                                  const Extent& e, size_t i) {
  const Namespace& s = src.ns;
  if (e.count == 0) return absl::InvalidArgumentError(absl::StrFormat("extent %u has no LBAs", i));
  if (e.src_lba >= s.capacity_blocks || e.count > s.capacity_blocks - e.src_lba)
    return absl::OutOfRangeError(absl::StrFormat("extent %u: source LBAs %u..%u leave %s (%u LBAs)", i, e.src_lba,
                                                 e.src_lba + e.count - 1, s.name, s.capacity_blocks));
  const uint64_t bytes = e.count * s.lba_size;
  if (bytes % unit != 0)
    return absl::InvalidArgumentError(absl::StrFormat(
        "extent %u: %u bytes are not whole LBAs of every end (multiples of %u bytes)", i, bytes, unit));
  for (const CopyEnd* d : dsts) {
    const uint64_t n = bytes / d->ns.lba_size, cap = d->ns.capacity_blocks;
    if (e.dst_lba >= cap || n > cap - e.dst_lba)
      return absl::OutOfRangeError(absl::StrFormat("extent %u: destination LBAs %u..%u leave %s (%u LBAs)", i,
                                                   e.dst_lba, e.dst_lba + n - 1, d->ns.name, cap));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<uint64_t> CheckCopyExtents(const CopyEnd& src, const std::vector<const CopyEnd*>& dsts, uint64_t unit,
                                          const std::vector<Extent>& extents) {
  if (dsts.empty() || unit == 0) return absl::InvalidArgumentError("a copy needs a destination and a copy unit");
  const uint64_t dst_lba = dsts[0]->ns.lba_size;
  Spans s, d;
  uint64_t total = 0;
  for (size_t i = 0; i < extents.size(); ++i) {
    CMB_ASSIGN_OR_RETURN(uint64_t bytes, CheckOne(src, dsts, unit, extents[i], i));
    s.emplace_back(extents[i].src_lba, extents[i].src_lba + extents[i].count, i);
    d.emplace_back(extents[i].dst_lba, extents[i].dst_lba + bytes / dst_lba, i);
    total += bytes;
  }
  CMB_RETURN_IF_ERROR(Overlaps(d, {}, "on the destination"));
  for (const CopyEnd* e : dsts)
    if (SameNamespace(src.ns, e->ns))  // one LBA size: the spans compare directly
      CMB_RETURN_IF_ERROR(Overlaps(s, d, absl::StrCat("in ", e->ns.name)));
  return total;
}

}  // namespace cmb::internal
