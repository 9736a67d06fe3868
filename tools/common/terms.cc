#include "terms.h"

#include "absl/strings/str_replace.h"

namespace cmbtools {

std::string InCmbcpTerms(absl::string_view m) {
  // "set `x`" and "pass `x`" read as "pass --x"; a bare `x` is the flag.
  std::string pass = absl::StrReplaceAll(m, {{"set `", "pass `"}});  // one pass each: no chaining
  return absl::StrReplaceAll(pass, {{"`allow_bounce`", "--allow-bounce"},
                                 {"`force`", "--force"},
                                 {"`via`", "--via"},
                                 {"`stripe`", "--stripe"},
                                 {"`chunk_bytes`", "--chunk"},
                                 {"`count`", "--count"},
                                 {"`bytes`", "--bytes"},
                                 {"`extents`", "--extents"},
                                 {"`qd`", "--qd"},
                                 {"`method` ", "--method="}});
}

std::vector<std::string> InCmbcpTerms(const std::vector<std::string>& ms) {
  std::vector<std::string> out;
  for (const std::string& m : ms) out.push_back(InCmbcpTerms(m));
  return out;
}

}  // namespace cmbtools
