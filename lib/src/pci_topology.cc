#include "cmb/pci_topology.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cmb/status_macros.h"

namespace cmb {

namespace {
std::string DevicePath(const PciAddress& a) {
  return absl::StrCat("/sys/bus/pci/devices/", a.ToString());
}
}  // namespace

absl::StatusOr<PciNode> LookupPciNode(const SysRoot& root, const PciAddress& address) {
  PciNode n;
  n.address = address;
  std::string dev = DevicePath(address);
  if (!root.Exists(dev))
    return absl::NotFoundError(absl::StrCat("no PCI device ", address.ToString(), " (",
                                            root.Host(dev), " does not exist)"));
  CMB_ASSIGN_OR_RETURN(n.sysfs_path, root.Resolve(dev));
  // /sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/...: every component
  // between the host bridge and the device itself is a bridge above it.
  std::vector<absl::string_view> parts = absl::StrSplit(n.sysfs_path, '/', absl::SkipEmpty());
  bool in_tree = false;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (absl::StartsWith(parts[i], "pci") && absl::StrContains(parts[i], ':')) {
      n.host_bridge = std::string(parts[i]);
      in_tree = true;
      n.upstream.clear();
      continue;
    }
    if (!in_tree) continue;
    absl::StatusOr<PciAddress> a = PciAddress::Parse(parts[i]);
    if (a.ok()) n.upstream.push_back(*a);
  }
  if (n.host_bridge.empty())
    return absl::FailedPreconditionError(
        absl::StrCat(n.sysfs_path, ": no host bridge (pciDDDD:BB) in the device path"));
  std::reverse(n.upstream.begin(), n.upstream.end());
  CMB_ASSIGN_OR_RETURN(uint64_t vendor, root.ReadUint(dev + "/vendor"));
  CMB_ASSIGN_OR_RETURN(uint64_t device, root.ReadUint(dev + "/device"));
  CMB_ASSIGN_OR_RETURN(uint64_t cls, root.ReadUint(dev + "/class"));
  n.vendor = static_cast<uint16_t>(vendor);
  n.device = static_cast<uint16_t>(device);
  n.class_code = static_cast<uint32_t>(cls);
  return n;
}

absl::StatusOr<ConfigSpace> ReadConfigSpace(const SysRoot& root, const PciAddress& address) {
  std::string path = DevicePath(address) + "/config";
  struct stat st;
  if (::stat(root.Host(path).c_str(), &st) != 0)
    return absl::ErrnoToStatus(errno, absl::StrCat("stat ", root.Host(path)));
  ConfigSpace c;
  c.file_size = static_cast<size_t>(st.st_size);
  CMB_ASSIGN_OR_RETURN(c.bytes, root.ReadBytes(path, 4096));
  return c;
}

AcsRead ReadAcs(const SysRoot& root, const PciAddress& address) {
  absl::StatusOr<ConfigSpace> c = ReadConfigSpace(root, address);
  if (!c.ok()) return AcsRead{};
  return ParseAcs(c->bytes, c->file_size);
}

absl::StatusOr<std::vector<PciAddress>> RootBusDevices(const SysRoot& root,
                                                       const std::string& host_bridge) {
  // "pci0000:00" -> domain 0000, bus 00.
  std::vector<absl::string_view> dom_bus = absl::StrSplit(absl::string_view(host_bridge).substr(3), ':');
  CMB_ASSIGN_OR_RETURN(std::vector<std::string> names, root.List("/sys/devices/" + host_bridge));
  std::vector<PciAddress> out;
  for (const std::string& name : names) {
    absl::StatusOr<PciAddress> a = PciAddress::Parse(name);
    if (!a.ok()) continue;
    if (dom_bus.size() == 2 && absl::StartsWith(name, absl::StrCat(dom_bus[0], ":", dom_bus[1], ":")))
      out.push_back(*a);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cmb
