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

struct Row {
  const NvmeStatusRow* first;
  std::vector<std::string> statuses;
};

// What the library says of a status no row names, as its message ends.
std::string Advice(int32_t res) {
  std::string m(cmb::internal::NvmeStatusError(res, "DEV").message());
  return m.substr(m.find("): ") + 3);
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
  std::printf("| NVMe status (SCT / SC) | code | what it means |\n| --- | --- | --- |\n");
  for (const Row& r : rows) {
    const std::string code = r.first->temporary ? absl::StrCat("Unavailable / ", CodeName(r.first->code))
                                                : CodeName(r.first->code);
    std::printf("| %s | %s | %s |\n", absl::StrJoin(r.statuses, "; ").c_str(), code.c_str(),
                std::string(r.first->advice).c_str());
  }
  std::printf("| any other media status (2 / any) | DataLoss | %s |\n", Advice(2 << 8 | 0xff).c_str());
  std::printf("| anything else: vendor specific (SCT 7), zoned, reserved | Unknown | %s |\n",
              Advice(7 << 8 | 0x01).c_str());
  return 0;
}
