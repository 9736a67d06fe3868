// SysRoot implementation: plain POSIX reads, errors carry the path.
#include "cmb/sysroot.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace cmb {
namespace fs = std::filesystem;

namespace {
absl::Status PathError(int err, absl::string_view what, absl::string_view path) {
  return absl::ErrnoToStatus(err, absl::StrCat(what, " ", path));
}
}  // namespace

SysRoot::SysRoot(std::string root) : root_(std::move(root)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

SysRoot SysRoot::FromEnvironment() {
  const char* env = std::getenv("CMB_SYSFS_ROOT");
  if (env == nullptr || *env == '\0') return SysRoot();
  return SysRoot(env);
}

std::string SysRoot::Host(absl::string_view path) const {
  return absl::StrCat(root_, path);
}

bool SysRoot::Exists(absl::string_view path) const {
  return Open(path, O_PATH).ok();
}

bool SysRoot::MayOpen(absl::string_view path, bool writable) const {
  if (path.empty()) return false;
  return ::faccessat(AT_FDCWD, Host(path).c_str(), writable ? R_OK | W_OK : R_OK, AT_EACCESS) == 0;
}

absl::StatusOr<UniqueFd> SysRoot::Open(absl::string_view path, int flags) const {
  flags |= O_CLOEXEC;
  if (is_live()) {
    std::string p(path);
    int fd = ::open(p.c_str(), flags);
    if (fd < 0) return PathError(errno, "open", p);
    return UniqueFd(fd);
  }
  // The kernel confines the lookup, symlinks and ".." included, to the tree:
  // no name the tree holds can open a host device (openat2, Linux >= 5.6).
  int dir = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return PathError(errno, "open the tree", root_);
  UniqueFd tree(dir);
  std::string rel(absl::StripPrefix(path, "/"));
  if (rel.empty()) rel = ".";
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do fd = ::syscall(SYS_openat2, tree.get(), rel.c_str(), &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return PathError(errno, "open", Host(path));
  return UniqueFd(static_cast<int>(fd));
}

absl::StatusOr<std::string> SysRoot::Read(absl::string_view path) const {
  std::string host = Host(path);
  absl::StatusOr<UniqueFd> file = Open(path, O_RDONLY);
  if (!file.ok()) return file.status();
  int fd = file->get();
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PathError(errno, "read", host);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

absl::StatusOr<std::string> SysRoot::ReadAttr(absl::string_view path) const {
  absl::StatusOr<std::string> s = Read(path);
  if (!s.ok()) return s.status();
  absl::StripTrailingAsciiWhitespace(&*s);
  return s;
}

absl::StatusOr<uint64_t> SysRoot::ReadUint(absl::string_view path) const {
  absl::StatusOr<std::string> s = ReadAttr(path);
  if (!s.ok()) return s.status();
  absl::string_view v = *s;
  uint64_t out = 0;
  bool ok = absl::ConsumePrefix(&v, "0x") ? absl::SimpleHexAtoi(v, &out)
                                          : absl::SimpleAtoi(v, &out);
  if (!ok || v.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(Host(path), ": expected an unsigned number, found \"", *s, "\""));
  return out;
}

absl::StatusOr<std::vector<uint8_t>> SysRoot::ReadBytes(absl::string_view path,
                                                        size_t max) const {
  std::string host = Host(path);
  absl::StatusOr<UniqueFd> file = Open(path, O_RDONLY);
  if (!file.ok()) return file.status();
  int fd = file->get();
  std::vector<uint8_t> out(max);
  size_t got = 0;
  while (got < max) {
    ssize_t n = ::pread(fd, out.data() + got, max - got, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return PathError(errno, "read", host);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

absl::StatusOr<std::vector<std::string>> SysRoot::List(absl::string_view path) const {
  std::error_code ec;
  std::vector<std::string> out;
  std::string host = Host(path);
  for (fs::directory_iterator it(host, ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path().filename().string());
  if (ec) return PathError(ec.value(), "list", host);
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::string> SysRoot::Resolve(absl::string_view path) const {
  // Resolve component by component so absolute link targets stay in the tree.
  std::vector<std::string> parts;
  std::vector<std::string> todo;
  for (absl::string_view p : absl::StrSplit(path, '/', absl::SkipEmpty()))
    todo.emplace_back(p);
  std::reverse(todo.begin(), todo.end());
  int links = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.back());
    todo.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(c);
    std::string cur = "/" + absl::StrJoin(parts, "/");
    std::string host = Host(cur);
    char buf[4096];
    ssize_t n = ::readlink(host.c_str(), buf, sizeof buf - 1);
    if (n < 0) {
      if (errno == EINVAL) continue;  // not a link
      return PathError(errno, "resolve", host);
    }
    if (++links > 40) return PathError(ELOOP, "resolve", Host(path));
    absl::string_view target(buf, static_cast<size_t>(n));
    parts.pop_back();
    if (absl::StartsWith(target, "/")) parts.clear();
    std::vector<std::string> more;
    for (absl::string_view p : absl::StrSplit(target, '/', absl::SkipEmpty())) more.emplace_back(p);
    for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
  }
  return "/" + absl::StrJoin(parts, "/");
}

absl::StatusOr<std::string> SysRoot::LinkName(absl::string_view path) const {
  std::string host = Host(path);
  char buf[4096];
  ssize_t n = ::readlink(host.c_str(), buf, sizeof buf - 1);
  if (n < 0) return PathError(errno, "readlink", host);
  absl::string_view target(buf, static_cast<size_t>(n));
  size_t slash = target.rfind('/');
  return std::string(slash == absl::string_view::npos ? target : target.substr(slash + 1));
}

}  // namespace cmb
