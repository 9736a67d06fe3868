// libFuzzer target: the extent-list parser (cmbcp --extents, ParseExtents).
// Besides "no crash", it checks the parser's promises: every extent has a
// non-zero count and a range that does not wrap, and printing the list back
// as text parses to the same extents.
//
//   build-fuzz/tests/fuzz/extent_list_fuzz tests/fuzz/corpus/extent_list
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "cmb/extent_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<std::vector<cmb::Extent>> e = cmb::ParseExtents({reinterpret_cast<const char*>(data), size});
  if (!e.ok()) return 0;
  std::string back;
  for (const cmb::Extent& x : *e) {
    if (x.count == 0 || x.src_lba > UINT64_MAX - x.count || x.dst_lba > UINT64_MAX - x.count) __builtin_trap();
    absl::StrAppend(&back, x.src_lba, " ", x.dst_lba, " ", x.count, "\n");
  }
  absl::StatusOr<std::vector<cmb::Extent>> again = cmb::ParseExtents(back);
  if (!again.ok() || again->size() != e->size()) __builtin_trap();
  for (size_t i = 0; i < e->size(); ++i)
    if ((*again)[i].src_lba != (*e)[i].src_lba || (*again)[i].dst_lba != (*e)[i].dst_lba ||
        (*again)[i].count != (*e)[i].count)
      __builtin_trap();
  return 0;
}
