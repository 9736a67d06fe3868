#include "journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

// errno as a Status naming the step and the path; call right after the failure.
absl::Status Errno(const char* step, const std::string& path) {
  int err = errno;  // before anything allocates
  return absl::ErrnoToStatus(err, absl::StrCat(step, " ", path));
}

absl::Status MakeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return Errno("mkdir", part);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Errno("stat", dir);
  if (!S_ISDIR(st.st_mode))
    return absl::FailedPreconditionError(absl::StrCat(
        dir, " is not a directory: remove it, or set CMB_STATE_DIR to a directory for the journal"));
  return absl::OkStatus();
}

// Writes `text` to a new file `path` and fsyncs it; removes it on failure.
absl::Status WriteSynced(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", path);
  absl::Status s;
  for (size_t off = 0; s.ok() && off < text.size();) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = Errno("write", path);
    else off += static_cast<size_t>(n);
  }
  if (s.ok() && ::fsync(fd) != 0) s = Errno("fsync", path);
  if (::close(fd) != 0 && s.ok()) s = Errno("close", path);
  if (!s.ok()) ::unlink(path.c_str());
  return s;
}

// A rename is durable only once its directory is synced.
absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  absl::Status s;
  if (::fsync(fd) != 0) s = Errno("fsync", dir);
  ::close(fd);
  return s;
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

// Durable and atomic: a crash leaves the old journal or the new one, never a
// torn file. The temporary name is per process, so two cmbcp never share it.
absl::Status Journal::Save(uint64_t bytes_done) const {
  std::string dir = path_.substr(0, path_.rfind('/'));
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  std::string tmp = absl::StrCat(path_, ".tmp.", ::getpid());
  std::string text = nlohmann::json{{"copy", key_}, {"bytes_done", bytes_done}}.dump() + "\n";
  if (absl::Status s = WriteSynced(tmp, text); !s.ok()) return s;
  std::string renaming = absl::StrCat(tmp, " to ", path_);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    absl::Status s = Errno("rename", renaming);
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDir(dir);
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
