// The tools' words for the library's fixes (tools/common/fix_words.h): a
// request option the planner names as data becomes cmbcp's flag, with the
// value the library suggests.
#include "fix_words.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "cmb/fix.h"

namespace {

using cmb::Fix;

TEST(FixWords, EveryOptionIsACmbcpFlag) {
  const std::pair<Fix::Option, const char*> flags[] = {
      {Fix::Option::kAllowBounce, "pass --allow-bounce "}, {Fix::Option::kForce, "pass --force,"},
      {Fix::Option::kVia, "pass --via"},                   {Fix::Option::kChunkBytes, "pass --chunk"},
      {Fix::Option::kQd, "pass --qd"},                     {Fix::Option::kMethod, "pass --method="},
      {Fix::Option::kPath, "pass --path"}};
  std::set<std::string> seen;
  for (const auto& [option, flag] : flags) {
    const std::string w = cmbtools::FixInWords(cmb::SetOption(option));
    EXPECT_TRUE(absl::StartsWith(w, flag)) << w;
    seen.insert(w);
  }
  EXPECT_EQ(seen.size(), std::size(flags));
}

TEST(FixWords, TheSuggestedValueFollowsTheFlag) {
  EXPECT_EQ(cmbtools::FixInWords(cmb::SetOption(Fix::Option::kChunkBytes, "4096 or less")),
            "pass --chunk with 4096 or less");
  EXPECT_EQ(cmbtools::FixInWords(cmb::SetOption(Fix::Option::kMethod, "auto")), "pass --method=auto");
  const absl::Status s = cmb::WithFix(absl::FailedPreconditionError("no CMB reaches both ends"),
                                      cmb::SetOption(Fix::Option::kAllowBounce));
  EXPECT_EQ(cmbtools::WithFixes(s),
            "no CMB reaches both ends. Fix: pass --allow-bounce to copy through host memory");
}

}  // namespace
