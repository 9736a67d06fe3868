// The resume journal of cmbcp: when a copy stops early (signal or error), the
// completed prefix of the destination range is recorded so `cmbcp --resume`
// with the same arguments continues from there. One small JSON file per
// (source range, destination range), under $CMB_STATE_DIR, else
// $XDG_STATE_HOME/cmbcp, else ~/.local/state/cmbcp; removed when the copy completes.
//
//   cmbcp::Journal j = cmbcp::Journal::For(*plan);
//   j.Save(bytes_done);   ...   absl::StatusOr<uint64_t> done = j.Load();
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "cmb/copy_plan.h"

namespace cmbcp {

class Journal {
 public:
  static Journal For(const cmb::CopyPlan& plan);
  absl::Status Save(uint64_t bytes_done) const;
  absl::StatusOr<uint64_t> Load() const;  // NotFound when no copy of this range was interrupted
  void Remove() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string key_;  // the ranges, to check a loaded file matches
};

}  // namespace cmbcp
