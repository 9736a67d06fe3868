// libFuzzer target: the access list (/etc/cmb/devices, cmb::ParseAccessList),
// which decides what an unprivileged group may write. Besides "no crash", it
// checks the parser's promises: every entry comes from a line of the input,
// has a known key and a non-empty value that prints back as KEY=VALUE and
// parses to itself, no entry repeats, and a bad line never yields an entry.
//
//   build-fuzz/tests/fuzz/access_list_fuzz tests/fuzz/corpus/access_list
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_split.h"
#include "cmb/access_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  cmb::AccessList list = cmb::ParseAccessList(text, "devices");
  size_t lines = std::vector<absl::string_view>(absl::StrSplit(text, '\n')).size();
  for (size_t i = 0; i < list.entries.size(); ++i) {
    const cmb::AccessEntry& e = list.entries[i];
    if (e.value.empty() || e.line < 1 || static_cast<size_t>(e.line) > lines) __builtin_trap();
    if (std::string(cmb::AccessKeyName(e.key)) == "?") __builtin_trap();
    for (size_t k = 0; k < i; ++k)
      if (list.entries[k].key == e.key && list.entries[k].value == e.value) __builtin_trap();
    // Printed back, an entry parses to itself, without a warning.
    cmb::AccessList again = cmb::ParseAccessList(e.ToString(), "again");
    if (again.entries.size() != 1 || !again.warnings.empty() || again.entries[0].value != e.value ||
        again.entries[0].key != e.key)
      __builtin_trap();
  }
  // Each non-blank, non-comment line is an entry, a repeat or a warning: never both.
  if (list.entries.size() + list.warnings.size() > lines) __builtin_trap();
  return 0;
}
