#include "journal.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/crc32c.h"

namespace cmbcp {
namespace {

std::string StateDir() {
  if (const char* d = std::getenv("CMB_STATE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_STATE_HOME"); d && *d) return absl::StrCat(d, "/cmbcp");
  const char* home = std::getenv("HOME");
  return absl::StrCat(home && *home ? home : "/tmp", "/.local/state/cmbcp");
}

absl::Status MakeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/')
      if (::mkdir(dir.substr(0, i).c_str(), 0700) != 0 && errno != EEXIST)
        return absl::ErrnoToStatus(errno, absl::StrCat("mkdir ", dir.substr(0, i)));
  return absl::OkStatus();
}

}  // namespace

Journal Journal::For(const cmb::CopyPlan& plan) {
  Journal j;
  // Serial and NSID name a namespace across reboots; nvmeX numbers do not.
  // Serials are device bytes, not always UTF-8: escaped, so the JSON holds them.
  j.key_ = absl::StrFormat("%s/%u/%u -> %s/%u/%u, %u bytes", absl::CHexEscape(plan.src.serial), plan.src.ns.nsid,
                           plan.src.lba, absl::CHexEscape(plan.dst.serial), plan.dst.ns.nsid, plan.dst.lba, plan.bytes);
  j.path_ = absl::StrFormat("%s/%08x.json", StateDir(), cmb::Crc32c(0, j.key_.data(), j.key_.size()));
  return j;
}

absl::Status Journal::Save(uint64_t bytes_done) const {
  std::string dir = path_.substr(0, path_.rfind('/'));
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << nlohmann::json{{"copy", key_}, {"bytes_done", bytes_done}}.dump() << "\n";
    if (!f.flush()) return absl::ErrnoToStatus(errno, absl::StrCat("write ", tmp));
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("rename ", tmp));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Journal::Load() const {
  std::ifstream f(path_);
  if (!f) return absl::NotFoundError(absl::StrCat("no interrupted copy of this range is recorded (", path_, ")"));
  nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("copy") || !j["copy"].is_string() ||
      !j.contains("bytes_done") || !j["bytes_done"].is_number_unsigned())
    return absl::DataLossError(absl::StrCat(path_, " is not a cmbcp journal; delete it"));
  if (j["copy"].get<std::string>() != key_)
    return absl::NotFoundError(absl::StrCat(path_, " records a different copy (", j["copy"].get<std::string>(), ")"));
  return j["bytes_done"].get<uint64_t>();
}

void Journal::Remove() const { std::remove(path_.c_str()); }

}  // namespace cmbcp
