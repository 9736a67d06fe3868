// libFuzzer target: cmbcp's resume journal, a file under the user's state
// directory that anything may have scribbled on. Load() must refuse what is
// not a journal of this very copy, and Save() then Load() must round-trip.
//
//   build-fuzz/tests/fuzz/journal_fuzz tests/fuzz/corpus/journal
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "journal.h"

namespace {

// The journal's directory: a fresh one, removed when the fuzzer exits.
struct StateDir {
  std::string path;
  StateDir() {
    char dir[] = "/tmp/cmb-journal-fuzz.XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    path = dir;
    ::setenv("CMB_STATE_DIR", dir, 1);
  }
  ~StateDir() { std::filesystem::remove_all(path); }
};

cmbcp::Journal Make() {
  static const StateDir dir;
  cmb::CopyPlan plan;
  plan.src.serial = "src\xfa\"";  // device bytes: not UTF-8, and a quote
  plan.dst.serial = "dst";
  plan.src.ns.nsid = plan.dst.ns.nsid = 1;
  plan.bytes = 1 << 20;
  return cmbcp::Journal::For(plan);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cmbcp::Journal j = Make();
  {
    std::ofstream f(j.path(), std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  (void)j.Load();
  uint64_t v = 0;
  for (size_t i = 0; i < size && i < 8; ++i) v = v << 8 | data[i];
  if (!j.Save(v).ok()) std::abort();
  absl::StatusOr<uint64_t> back = j.Load();
  if (!back.ok() || *back != v) __builtin_trap();
  j.Remove();
  return 0;
}
