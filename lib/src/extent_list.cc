#include "cmb/extent_list.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cmb/namespace_spec.h"

namespace cmb {

absl::StatusOr<std::vector<Extent>> ParseExtents(absl::string_view text) {
  std::vector<Extent> out;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("extent list line ", line_no, ": ", why));
    };
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (f.empty()) continue;
    if (f.size() != 3) return bad(absl::StrCat("want SRC_LBA DST_LBA COUNT, got ", f.size(), " field(s)"));
    uint64_t v[3];
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<uint64_t> n = ParseCount(f[i]);
      if (!n.ok()) return bad(n.status().message());
      v[i] = *n;
    }
    if (v[2] == 0) return bad("COUNT is 0");
    if (v[0] > UINT64_MAX - v[2] || v[1] > UINT64_MAX - v[2]) return bad("the LBA range wraps past 2^64");
    if (out.size() == kMaxExtents) return bad(absl::StrCat("more than ", kMaxExtents, " extents"));
    out.push_back({v[0], v[1], v[2]});
  }
  return out;
}

}  // namespace cmb
