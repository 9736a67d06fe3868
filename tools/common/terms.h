// The library's terms in the tools' words. Library messages name a request
// field in backquotes (`allow_bounce`, `force`, `via`, ...: copy_plan.h), so
// an application can say them its own way; cmbcp's users know them as flags.
//
//   cmbtools::InCmbcpTerms("... or set `allow_bounce` to copy through host memory")
//   // "... or pass --allow-bounce to copy through host memory"
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cmbtools {

std::string InCmbcpTerms(absl::string_view library_message);
std::vector<std::string> InCmbcpTerms(const std::vector<std::string>& library_messages);

}  // namespace cmbtools
