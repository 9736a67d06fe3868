#include "cmb/data_path.h"

#include "absl/strings/str_cat.h"

namespace cmb {

const char* DataPathName(DataPath p) {
  switch (p) {
    case DataPath::kPassthrough: return "passthrough";
    case DataPath::kBlock: return "block";
  }
  return "?";
}

absl::StatusOr<DataPath> ParseDataPath(absl::string_view text) {
  for (DataPath p : {DataPath::kPassthrough, DataPath::kBlock})
    if (text == DataPathName(p)) return p;
  return absl::InvalidArgumentError(absl::StrCat("unknown data path '", text, "' (passthrough, block)"));
}

}  // namespace cmb
