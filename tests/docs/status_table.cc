// Prints docs/troubleshooting.md's table of NVMe statuses from the library's
// own (NvmeStatusTable, nvme_status.h), so the docs say what the code does.
// Statuses that mean the same are one row. tests/docs/status_table_test.sh
// compares, or with --write replaces, the table in the docs.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cmb/fix.h"
#include "fix_words.h"
#include "nvme_status.h"

namespace {

using cmb::internal::NvmeStatusRow;

// "OUT_OF_RANGE" -> "OutOfRange", as absl::StatusCode's enumerators read.
std::string CodeName(absl::StatusCode c) {
  std::string out;
  for (absl::string_view w : absl::StrSplit(absl::StatusCodeToString(c), '_')) {
    std::string part = absl::AsciiStrToLower(w);
    if (!part.empty()) part[0] = absl::ascii_toupper(part[0]);
    out += part;
  }
  return out;
}

// The row's status as a completion's res, with DNR set: the code the table names last.
int32_t DnrSet(const NvmeStatusRow& r) { return 0x4000 | r.sct << 8 | r.sc; }

struct Row {
  const NvmeStatusRow* first;
  std::vector<std::string> statuses;
};

constexpr char kDev[] = "/dev/ngXnY";

// What the library says of a status, as its message ends, and its fixes in
// the tools' words.
std::string Advice(int32_t res) {
  const absl::Status s = cmb::internal::NvmeStatusError(res, kDev);
  std::string m(s.message());
  return m.substr(m.find("): ") + 3);
}
std::string Fixes(int32_t res) {
  std::vector<std::string> out;
  for (const cmb::Fix& f : cmb::FixesOf(cmb::internal::NvmeStatusError(res, kDev))) out.push_back(cmbtools::FixInWords(f));
  return out.empty() ? "" : absl::StrJoin(out, "; ");
}

}  // namespace

int main() {
  std::vector<Row> rows;
  for (const NvmeStatusRow& s : cmb::internal::NvmeStatusTable()) {
    // libnvme's "Name: what it says": the name is enough in a table.
    std::string title = cmb::internal::NvmeStatusName(s.sct, s.sc);
    title = title.substr(0, title.find(": "));
    const std::string name = absl::StrFormat("%s (%u / 0x%02x)", title, s.sct, s.sc);
    Row* r = nullptr;
    for (Row& x : rows)
      if (x.first->code == s.code && x.first->temporary == s.temporary && x.first->advice == s.advice) r = &x;
    if (!r) r = &rows.emplace_back(Row{&s, {}});
    r->statuses.push_back(name);
  }
  std::printf("| NVMe status (SCT / SC) | code | what it means | what cmbcp adds |\n| --- | --- | --- | --- |\n");
  for (const Row& r : rows) {
    const std::string code = r.first->temporary ? absl::StrCat("Unavailable / ", CodeName(r.first->code))
                                                : CodeName(r.first->code);
    const int32_t res = DnrSet(*r.first);
    std::printf("| %s | %s | %s | %s |\n", absl::StrJoin(r.statuses, "; ").c_str(), code.c_str(),
                cmb::internal::NvmeStatusAdvice(*r.first).c_str(), Fixes(res).c_str());
  }
  std::printf("| any other media status (2 / any) | DataLoss | %s | %s |\n", Advice(2 << 8 | 0xff).c_str(),
              Fixes(2 << 8 | 0xff).c_str());
  std::printf("| anything else: vendor specific (SCT 7), zoned, reserved | Unknown | %s | %s |\n",
              Advice(7 << 8 | 0x01).c_str(), Fixes(7 << 8 | 0x01).c_str());
  return 0;
}
