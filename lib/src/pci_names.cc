// PciNames over libpci's name list, and the process-wide set of loaded
// databases behind cmb/pci_names.h (one per file under a root).
#include "pci_names.h"

#include <fcntl.h>
#include <sys/stat.h>

extern "C" {
#include <pci/pci.h>
}

#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "cmb/pci_names.h"

namespace cmb::internal {
namespace {

// libpci reports a malformed file through a->error, which must not return
// (its default exits the process). Ours jumps back to LoadList instead: only
// C frames lie between, and pci_load_name_list has closed the file by then
// (3.9.0 names-parse.c; no leak under LeakSanitizer).
thread_local std::jmp_buf* t_on_error = nullptr;
thread_local char t_error[256];

__attribute__((noreturn)) void OnLibpciError(char* msg, ...) {  // GNU form: part of the type, as libpci's PCI_NONRET field wants (clang)
  va_list ap;
  va_start(ap, msg);
  std::vsnprintf(t_error, sizeof t_error, msg, ap);
  va_end(ap);
  if (t_on_error == nullptr) std::abort();  // not reached: only loading reports errors
  std::longjmp(*t_on_error, 1);
}
void OnLibpciMessage(char*, ...) {}

enum class LoadResult { kLoaded, kMissing, kMalformed };

// pci_load_name_list with its errors caught; nothing here has a destructor
// for the jump to skip.
LoadResult LoadList(pci_access* a) {
  std::jmp_buf env;
  t_on_error = &env;
  if (setjmp(env) != 0) {
    t_on_error = nullptr;
    return LoadResult::kMalformed;
  }
  int ok = pci_load_name_list(a);
  t_on_error = nullptr;
  return ok ? LoadResult::kLoaded : LoadResult::kMissing;
}

// No udev hwdb, no DNS, no cache file: names from the loaded file only.
constexpr int kLookupFlags = PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB;

pci_access* NewAccess() {
  pci_access* a = pci_alloc();
  a->error = OnLibpciError;
  a->warning = OnLibpciMessage;
  a->debug = OnLibpciMessage;
  a->id_lookup_mode = 0;  // default PCI_LOOKUP_CACHE would read ~/.pciids-cache
  char param[] = "hwdb.disable", one[] = "1";
  pci_set_param(a, param, one);  // -1 (ignored) when built without hwdb
  return a;
}

}  // namespace

absl::StatusOr<PciNames> PciNames::Load(const std::string& path) {
  PciNames names(NewAccess());
  pci_set_name_list_path(names.access_, strdup(path.c_str()), /*to_be_freed=*/1);
  switch (LoadList(names.access_)) {
    case LoadResult::kLoaded: break;
    case LoadResult::kMissing: return absl::NotFoundError(absl::StrCat("cannot open the PCI ID list ", path));
    case LoadResult::kMalformed:
      // The partly filled list goes; a fresh access names nothing.
      return absl::DataLossError(absl::StrCat("malformed PCI ID list: ", absl::StripSuffix(t_error, "\n")));
  }
  return names;
}

std::string PciNames::DefaultPath() {
  pci_access* a = pci_alloc();
  std::string path = a->id_file_name ? a->id_file_name : "/usr/share/misc/pci.ids";
  pci_cleanup(a);
  return path;
}

PciNames::PciNames(PciNames&& other) noexcept : access_(std::exchange(other.access_, nullptr)) {}

PciNames& PciNames::operator=(PciNames&& other) noexcept {
  if (this != &other) {
    if (access_) pci_cleanup(access_);
    access_ = std::exchange(other.access_, nullptr);
  }
  return *this;
}

PciNames::~PciNames() {
  if (access_) pci_cleanup(access_);
}

std::optional<std::string> PciNames::Device(uint16_t vendor, uint16_t device) const {
  // An empty list leaves no hash, and libpci would try to load it again.
  if (!access_ || !access_->id_hash) return std::nullopt;
  char v[256], d[256];
  if (!pci_lookup_name(access_, v, sizeof v, PCI_LOOKUP_VENDOR | kLookupFlags, vendor)) return std::nullopt;
  if (!pci_lookup_name(access_, d, sizeof d, PCI_LOOKUP_DEVICE | kLookupFlags, vendor, device))
    return absl::StrFormat("%s Device %04x", v, device);
  return absl::StrCat(v, " ", d);
}

std::optional<std::string> PciNames::Class(uint32_t class_code) const {
  if (!access_ || !access_->id_hash) return std::nullopt;
  char c[256];
  if (!pci_lookup_name(access_, c, sizeof c, PCI_LOOKUP_CLASS | kLookupFlags, static_cast<int>(class_code >> 8)))
    return std::nullopt;
  return std::string(c);
}

namespace {

// A database file by identity, so a tree's pci.ids is loaded once and a
// replaced one (or a new tree at a reused path) again.
struct FileKey {
  dev_t dev;
  ino_t ino;
  off_t size;
  int64_t mtime_ns;
  bool operator==(const FileKey&) const = default;
};

struct Loaded {
  FileKey key;
  std::optional<PciNames> names;  // nullopt: malformed, names nothing
};

std::mutex g_mu;
std::vector<Loaded>* g_loaded = new std::vector<Loaded>;  // never freed: used until exit
constexpr size_t kMaxLoaded = 4;

// The database under `root` where libpci looks by default (with and without
// .gz), opened inside the tree.
std::optional<UniqueFd> OpenDatabase(const SysRoot& root) {
  static const std::string kDefault = PciNames::DefaultPath();
  for (const std::string& p : {kDefault, std::string(absl::StripSuffix(kDefault, ".gz"))}) {
    absl::StatusOr<UniqueFd> fd = root.Open(p, O_RDONLY | O_CLOEXEC);
    if (fd.ok()) return std::move(*fd);
  }
  return std::nullopt;
}

// Runs `fn` on the names of root's database under the lock; nullopt when
// there is no usable database.
template <typename T>
std::optional<T> WithNames(const SysRoot& root, const std::function<std::optional<T>(const PciNames&)>& fn) {
  std::optional<UniqueFd> fd = OpenDatabase(root);
  struct stat st;
  if (!fd || ::fstat(fd->get(), &st) != 0) return std::nullopt;
  FileKey key{st.st_dev, st.st_ino, st.st_size, int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
  std::lock_guard<std::mutex> lock(g_mu);
  Loaded* hit = nullptr;
  for (Loaded& l : *g_loaded)
    if (l.key == key) hit = &l;
  if (!hit) {
    if (g_loaded->size() == kMaxLoaded) g_loaded->erase(g_loaded->begin());
    absl::StatusOr<PciNames> n = PciNames::Load(absl::StrCat("/proc/self/fd/", fd->get()));
    g_loaded->push_back({key, n.ok() ? std::optional<PciNames>(std::move(*n)) : std::nullopt});
    hit = &g_loaded->back();
  }
  return hit->names ? fn(*hit->names) : std::nullopt;
}

}  // namespace
}  // namespace cmb::internal

namespace cmb {

std::optional<std::string> PciDeviceName(const SysRoot& root, uint16_t vendor, uint16_t device) {
  return internal::WithNames<std::string>(
      root, [&](const internal::PciNames& n) { return n.Device(vendor, device); });
}

std::optional<std::string> PciClassName(const SysRoot& root, uint32_t class_code) {
  return internal::WithNames<std::string>(root, [&](const internal::PciNames& n) { return n.Class(class_code); });
}

std::string PciIdString(uint16_t vendor, uint16_t device) { return absl::StrFormat("%04x:%04x", vendor, device); }

std::string PciDeviceLabel(const SysRoot& root, uint16_t vendor, uint16_t device) {
  std::optional<std::string> name = PciDeviceName(root, vendor, device);
  return name ? absl::StrCat(*name, " [", PciIdString(vendor, device), "]") : PciIdString(vendor, device);
}

}  // namespace cmb
