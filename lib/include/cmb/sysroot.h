// SysRoot: the one place every path the library reads (/sys, /dev, /proc,
// /boot) goes through, so tests and users can point cmb at a recorded or
// hand-made tree instead of the live system.
//
//   cmb::SysRoot root = cmb::SysRoot::FromEnvironment();  // $CMB_SYSFS_ROOT or "/"
//   absl::StatusOr<std::string> model = root.ReadAttr("/sys/class/nvme/nvme0/model");
//
// A root of "/tmp/tree" maps "/sys/class/nvme" to "/tmp/tree/sys/class/nvme".
// Symlinks inside the tree are resolved relative to the tree, as the kernel's
// own relative links ("../../devices/...") are. Every file the library opens,
// device nodes included, is opened through Open(), which under a tree never
// leaves it: a tree that names nvme1n1 cannot reach the host's /dev/nvme1n1.
//
// Threads: a SysRoot is an immutable value; safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cmb/unique_fd.h"

namespace cmb {

class SysRoot {
 public:
  // The live system.
  SysRoot() = default;
  // A tree laid out like "/": "" or "/" mean the live system.
  explicit SysRoot(std::string root);
  // $CMB_SYSFS_ROOT when set and non-empty, else the live system.
  static SysRoot FromEnvironment();

  const std::string& root() const { return root_; }
  bool is_live() const { return root_.empty(); }

  // Host path of an absolute in-tree path ("/sys/..." -> "<root>/sys/...").
  std::string Host(absl::string_view path) const;

  bool Exists(absl::string_view path) const;
  // Whether this process may open the in-tree path for reading (and writing
  // when `writable`), as open(2) would decide by its effective IDs; false
  // for an empty path.
  bool MayOpen(absl::string_view path, bool writable) const;
  // open(2) of an absolute in-tree path. Under a tree, the path and every
  // symlink in it resolve inside the tree (openat2 RESOLVE_IN_ROOT), so an
  // absolute link such as dev/ng1n1 -> /dev/ng1n1 stays in the tree.
  // Errors carry the host path and errno (NotFound for ENOENT, ...).
  absl::StatusOr<UniqueFd> Open(absl::string_view path, int flags) const;
  // Whole file contents.
  absl::StatusOr<std::string> Read(absl::string_view path) const;
  // A sysfs attribute: contents with trailing whitespace removed.
  absl::StatusOr<std::string> ReadAttr(absl::string_view path) const;
  // A decimal (or 0x-prefixed hex) unsigned attribute.
  absl::StatusOr<uint64_t> ReadUint(absl::string_view path) const;
  // Up to `max` raw bytes of a binary file (PCI config space).
  absl::StatusOr<std::vector<uint8_t>> ReadBytes(absl::string_view path, size_t max) const;
  // Sorted entry names of a directory ("." and ".." excluded).
  absl::StatusOr<std::vector<std::string>> List(absl::string_view path) const;
  // Canonical in-tree path with every symlink resolved ("/sys/devices/...").
  absl::StatusOr<std::string> Resolve(absl::string_view path) const;
  // Last component of a symlink's target ("driver" -> "nvme").
  absl::StatusOr<std::string> LinkName(absl::string_view path) const;

 private:
  std::string root_;  // "" for the live system, else without trailing '/'
};

}  // namespace cmb
