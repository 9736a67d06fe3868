#include "cmb/discovery.h"

#include "cmb/kernel_rules.h"
#include "cmb/page.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cmb/status_macros.h"

namespace cmb {
namespace {

std::string AttrOr(const SysRoot& root, const std::string& path, std::string def = "") {
  absl::StatusOr<std::string> s = root.ReadAttr(path);
  return s.ok() ? *s : def;
}

// Who uses block devices, read once per discovery: mounts (device name ->
// mount point, from mountinfo) and swap areas (device names, /proc/swaps).
struct DeviceUse {
  std::multimap<std::string, std::string> mounts;  // block device name ("nvme1n1p2") -> mount point
  std::set<std::string> swaps;  // "nvme2n1", "nvme2n1p3"
  std::string unknown;          // why either could not be read
  // Block device name -> the system mount points ("/", "/boot", "/usr") it
  // carries, directly or under dm/md ("/ (through dm-0)").
  std::map<std::string, std::vector<std::string>> system;
};

// What a block device name stands for in /sys/block: its own directory, or a
// partition's, with the disk it belongs to.
struct BlockIndex {
  std::map<std::string, std::string> by_majmin;  // "259:1" -> "nvme0n1p1"
  std::map<std::string, std::string> disk_of;    // "nvme0n1p1" -> "nvme0n1", "nvme0n1" -> "nvme0n1"
  std::map<std::string, std::string> dir;        // name -> its /sys/block path
};

BlockIndex IndexBlocks(const SysRoot& root) {
  BlockIndex ix;
  absl::StatusOr<std::vector<std::string>> disks = root.List("/sys/block");
  if (!disks.ok()) return ix;
  for (const std::string& d : *disks) {
    std::string dd = "/sys/block/" + d;
    std::vector<std::pair<std::string, std::string>> devs{{d, dd}};
    if (absl::StatusOr<std::vector<std::string>> ents = root.List(dd); ents.ok())
      for (const std::string& e : *ents)
        if (root.Exists(dd + "/" + e + "/partition")) devs.emplace_back(e, dd + "/" + e);
    for (const auto& [name, path] : devs) {
      ix.disk_of[name] = d;
      ix.dir[name] = path;
      if (absl::StatusOr<std::string> mm = root.ReadAttr(path + "/dev"); mm.ok()) ix.by_majmin[*mm] = name;
    }
  }
  return ix;
}

// The device a mount's file system lives on: by maj:min, or, for file systems
// with an anonymous device number (btrfs shows 0:NN), by its source /dev path.
std::string MountDevice(const BlockIndex& ix, const SysRoot& root, const std::string& majmin,
                        const std::string& source) {
  if (auto it = ix.by_majmin.find(majmin); it != ix.by_majmin.end()) return it->second;
  absl::string_view dev = source;
  if (absl::ConsumePrefix(&dev, "/dev/mapper/")) {
    for (const auto& [name, path] : ix.dir)
      if (absl::StatusOr<std::string> dm = root.ReadAttr(path + "/dm/name"); dm.ok() && *dm == dev) return name;
    return "";
  }
  if (absl::ConsumePrefix(&dev, "/dev/") && ix.disk_of.count(std::string(dev))) return std::string(dev);
  return "";
}

// Every disk under `name`: through partitions to their disk, and through
// dm/md slaves down to the disks they are built on.
void DisksUnder(const BlockIndex& ix, const SysRoot& root, const std::string& name, std::set<std::string>& out,
                int depth = 0) {
  auto disk = ix.disk_of.find(name);
  if (disk == ix.disk_of.end() || depth > 16 || !out.insert(disk->second).second) return;
  for (const std::string& dev : {name, disk->second})
    if (absl::StatusOr<std::vector<std::string>> sl = root.List(ix.dir.at(dev) + "/slaves"); sl.ok())
      for (const std::string& s : *sl) DisksUnder(ix, root, s, out, depth + 1);
}

// Which disks carry /, /boot and /usr: these are never offered for writing,
// even where nothing on the disk itself shows as mounted (a file system on
// LVM over a partition, or btrfs, whose mountinfo names no real device).
void ReadSystemDisks(const SysRoot& root, const BlockIndex& ix,
                     const std::vector<std::array<std::string, 2>>& sys_mounts, DeviceUse& u) {
  for (const auto& [point, dev] : sys_mounts) {
    std::set<std::string> disks;
    DisksUnder(ix, root, dev, disks);
    for (const std::string& d : disks)
      u.system[d].push_back(d == ix.disk_of.at(dev) ? point : absl::StrCat(point, " (through ", dev, ")"));
  }
}

// The other devices of a multi-device btrfs that `dev` belongs to
// (/sys/fs/btrfs/<fsid>/devices/): mountinfo names only one of them.
std::vector<std::string> BtrfsSiblings(const SysRoot& root, const std::string& dev) {
  absl::StatusOr<std::vector<std::string>> fsids = root.List("/sys/fs/btrfs");
  if (!fsids.ok()) return {};
  for (const std::string& fsid : *fsids) {
    absl::StatusOr<std::vector<std::string>> devs = root.List("/sys/fs/btrfs/" + fsid + "/devices");
    if (devs.ok() && std::find(devs->begin(), devs->end(), dev) != devs->end()) return *devs;
  }
  return {};
}

// One mountinfo line: the devices it uses (the btrfs siblings too), by name.
void ReadMount(const SysRoot& root, const BlockIndex& ix, absl::string_view line, DeviceUse& u,
               std::vector<std::array<std::string, 2>>& sys_mounts) {
  std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
  if (f.size() <= 4) return;
  // After the optional fields: "- fstype source options".
  auto dash = std::find(f.begin() + 5, f.end(), "-");
  std::string fstype = f.end() - dash > 1 ? std::string(dash[1]) : "";
  std::string source = f.end() - dash > 2 ? std::string(dash[2]) : "";
  std::string point(f[4]);
  std::string dev = MountDevice(ix, root, std::string(f[2]), source);
  if (dev.empty()) return;
  u.mounts.emplace(dev, point);
  if (fstype == "btrfs")
    for (const std::string& s : BtrfsSiblings(root, dev))
      if (s != dev && ix.disk_of.count(s)) u.mounts.emplace(s, absl::StrCat(point, " (btrfs with ", dev, ")"));
  if (point == "/" || point == "/boot" || point == "/usr") sys_mounts.push_back({point, dev});
}

DeviceUse ReadDeviceUse(const SysRoot& root) {
  DeviceUse u;
  if (absl::StatusOr<std::string> info = root.Read("/proc/self/mountinfo"); info.ok()) {
    BlockIndex ix = IndexBlocks(root);
    std::vector<std::array<std::string, 2>> sys_mounts;  // mount point, device
    for (absl::string_view line : absl::StrSplit(*info, '\n', absl::SkipEmpty())) ReadMount(root, ix, line, u, sys_mounts);
    ReadSystemDisks(root, ix, sys_mounts, u);
  } else {
    u.unknown = absl::StrCat("cannot read the mount table: ", info.status().message());
  }
  // No /proc/swaps: a kernel without swap support (CONFIG_SWAP=n) has none.
  absl::StatusOr<std::string> swaps = root.Read("/proc/swaps");
  if (!swaps.ok() && !absl::IsNotFound(swaps.status())) {
    absl::StrAppend(&u.unknown, u.unknown.empty() ? "" : "; ", "cannot read the swap table: ",
                    swaps.status().message());
  } else if (swaps.ok()) {
    bool header = true;
    for (absl::string_view line : absl::StrSplit(*swaps, '\n', absl::SkipEmpty())) {
      if (std::exchange(header, false)) continue;  // "Filename Type Size Used Priority"
      absl::string_view dev = line.substr(0, line.find_first_of(" \t"));
      if (absl::ConsumePrefix(&dev, "/dev/")) u.swaps.emplace(dev);
    }
  }
  return u;
}

// Holders, mounts and swap areas of a block device and of its partitions.
void ReadUse(const SysRoot& root, const DeviceUse& use, Namespace* ns) {
  std::string block = "/sys/block/" + ns->name;
  std::vector<std::string> devs{block};
  if (absl::StatusOr<std::vector<std::string>> ents = root.List(block); ents.ok())
    for (const std::string& e : *ents)
      if (absl::StartsWith(e, ns->name + "p")) devs.push_back(block + "/" + e);
  for (const std::string& d : devs) {
    if (absl::StatusOr<std::vector<std::string>> h = root.List(d + "/holders"); h.ok())
      ns->holders.insert(ns->holders.end(), h->begin(), h->end());
    std::string name = d.substr(d.rfind('/') + 1);
    auto [lo, hi] = use.mounts.equal_range(name);
    for (auto it = lo; it != hi; ++it) ns->mountpoints.push_back(it->second);
    if (use.swaps.count(name)) ns->swaps.push_back("/dev/" + name);
  }
  if (auto it = use.system.find(ns->name); it != use.system.end()) ns->system_mounts = it->second;
  ns->use_unknown = use.unknown;
}

absl::StatusOr<Namespace> ReadNamespace(const SysRoot& root, const std::string& name, const DeviceUse& use) {
  Namespace ns;
  ns.root = root;
  ns.name = name;
  std::string block = "/sys/block/" + name;
  CMB_ASSIGN_OR_RETURN(uint64_t nsid, root.ReadUint(block + "/nsid"));
  ns.nsid = static_cast<uint32_t>(nsid);
  CMB_ASSIGN_OR_RETURN(uint64_t lbs, root.ReadUint(block + "/queue/logical_block_size"));
  ns.lba_size = static_cast<uint32_t>(lbs);
  CMB_ASSIGN_OR_RETURN(uint64_t sectors, root.ReadUint(block + "/size"));
  if (lbs == 0 || lbs % 512 != 0)
    return absl::FailedPreconditionError(absl::StrCat(block, ": odd logical block size ", lbs));
  ns.capacity_blocks = sectors * 512 / lbs;
  CMB_ASSIGN_OR_RETURN(uint64_t max_kb, root.ReadUint(block + "/queue/max_hw_sectors_kb"));
  CMB_ASSIGN_OR_RETURN(uint64_t segments, root.ReadUint(block + "/queue/max_segments"));
  if (segments == 0 || segments > UINT32_MAX)
    return absl::FailedPreconditionError(absl::StrCat(block, ": odd queue/max_segments ", segments));
  ns.max_hw_transfer_bytes = max_kb * 1024;
  ns.max_segments = static_cast<uint32_t>(segments);
  ns.max_transfer_bytes = std::min(ns.max_hw_transfer_bytes, segments * PageBytes());
  if (absl::StatusOr<uint64_t> poll = root.ReadUint(block + "/queue/io_poll"); poll.ok()) ns.io_poll = *poll != 0;
  ns.block_device = "/dev/" + name;
  // nvme0n1 -> ng0n1; the kernel names the generic device after the block device.
  std::string ng = "ng" + name.substr(4);
  if (root.Exists("/sys/class/nvme-generic/" + ng) || root.Exists("/dev/" + ng))
    ns.generic_device = "/dev/" + ng;
  ns.id = NamespaceId{AttrOr(root, block + "/wwid"), AttrOr(root, block + "/nguid"), AttrOr(root, block + "/eui"),
                      AttrOr(root, block + "/uuid")};
  ReadUse(root, use, &ns);
  return ns;
}

// Kernel log lines (text after "prio,seq,time,-;"), from /dev/kmsg without
// blocking; empty when unreadable (kernel.dmesg_restrict for non-root).
std::vector<std::string> KernelLog(const SysRoot& root) {
  std::vector<std::string> out;
  absl::StatusOr<UniqueFd> kmsg = root.Open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
  if (!kmsg.ok()) return out;
  int fd = kmsg->get();
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EPIPE) continue;  // overwritten records: skip on
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (4 << 20)) break;
  }
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    size_t semi = line.find(';');
    if (semi != absl::string_view::npos && line.substr(0, semi).find(',') != absl::string_view::npos)
      line = line.substr(semi + 1);
    out.emplace_back(line);
  }
  return out;
}

}  // namespace

void ParseFabricAddress(absl::string_view address, FabricInfo& out) {
  for (absl::string_view kv : absl::StrSplit(absl::StripAsciiWhitespace(address), ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    std::string* field = p.first == "traddr"        ? &out.traddr
                         : p.first == "trsvcid"     ? &out.trsvcid
                         : p.first == "host_traddr" ? &out.host_traddr
                         : p.first == "host_iface"  ? &out.host_iface
                         : p.first == "src_addr"    ? &out.src_addr
                                                    : nullptr;
    if (field) *field = std::string(p.second);
  }
}

std::vector<std::string> Namespace::uses() const {
  std::vector<std::string> u;
  for (const std::string& m : system_mounts) u.push_back("holds " + m);
  for (const std::string& m : mountpoints) u.push_back("mounted on " + m);
  for (const std::string& w : swaps) u.push_back("swap on " + w);
  for (const std::string& h : holders) u.push_back("held by " + h);
  return u;
}

bool SameNamespace(const Namespace& a, const Namespace& b, std::string* why) {
  if (a.block_device == b.block_device) {
    if (why) *why = a.block_device;
    return true;
  }
  // The kernel shows identifiers only when non-zero, so equal means the same
  // namespace: a controller must not report one identifier for two.
  for (auto [label, x, y] : {std::tuple{"NGUID", &a.id.nguid, &b.id.nguid}, {"EUI-64", &a.id.eui, &b.id.eui},
                             {"UUID", &a.id.uuid, &b.id.uuid}, {"wwid", &a.id.wwid, &b.id.wwid}}) {
    if (!x->empty() && *x == *y) {
      if (why) *why = absl::StrCat(label, " ", *x);
      return true;
    }
  }
  return false;
}

const char* SupportName(Support s) {
  switch (s) {
    case Support::kYes: return "yes";
    case Support::kNo: return "no";
    case Support::kUnknown: return "unknown";
  }
  return "unknown";
}

std::vector<size_t> System::Providers() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < controllers.size(); ++i)
    if (controllers[i].p2pmem && controllers[i].p2pmem->published) out.push_back(i);
  return out;
}

const Controller* System::FindController(absl::string_view name) const {
  for (const Controller& c : controllers)
    if (c.name == name) return &c;
  return nullptr;
}

const Controller* System::FindByAddress(const PciAddress& a) const {
  for (const Controller& c : controllers)
    if (c.address && *c.address == a) return &c;
  return nullptr;
}

absl::StatusOr<P2pMem> ReadP2pMem(const SysRoot& root, const PciAddress& address) {
  std::string dir = absl::StrCat("/sys/bus/pci/devices/", address.ToString(), "/p2pmem");
  if (!root.Exists(dir))
    return absl::NotFoundError(absl::StrCat(address.ToString(), " has no p2pmem pool (", root.Host(dir),
                                            " does not exist)"));
  P2pMem m;
  CMB_ASSIGN_OR_RETURN(m.size_bytes, root.ReadUint(dir + "/size"));
  CMB_ASSIGN_OR_RETURN(m.available_bytes, root.ReadUint(dir + "/available"));
  CMB_ASSIGN_OR_RETURN(uint64_t published, root.ReadUint(dir + "/published"));
  m.published = published != 0;
  m.allocate = root.Exists(dir + "/allocate");
  return m;
}

namespace {

// The PCI function's attributes: NUMA node, IDs, link, p2pmem and IOMMU.
void ReadPciFunction(const SysRoot& root, Controller& c) {
  std::string pci = "/sys/bus/pci/devices/" + c.address->ToString();
  int node = -1;
  if (absl::SimpleAtoi(AttrOr(root, pci + "/numa_node", "-1"), &node)) c.numa_node = node;
  uint32_t id = 0;  // sysfs prints "0x1b36"
  if (absl::SimpleHexAtoi(AttrOr(root, pci + "/vendor"), &id) && id <= 0xffff) c.pci_vendor = static_cast<uint16_t>(id);
  if (absl::SimpleHexAtoi(AttrOr(root, pci + "/device"), &id) && id <= 0xffff) c.pci_device = static_cast<uint16_t>(id);
  c.link_speed = AttrOr(root, pci + "/current_link_speed");
  if (c.link_speed == "Unknown") c.link_speed.clear();
  int width = 0;
  if (absl::SimpleAtoi(AttrOr(root, pci + "/current_link_width"), &width)) c.link_width = width;
  if (absl::StatusOr<P2pMem> m = ReadP2pMem(root, *c.address); m.ok()) c.p2pmem = *m;
  c.iommu_domain = AttrOr(root, pci + "/iommu_group/type");
}

// CMBLOC and CMBSZ, as the kernel shows them once it registered the CMB.
void ReadCmbRegisters(const SysRoot& root, const std::string& dir, Controller& c) {
  absl::StatusOr<uint64_t> loc = root.ReadUint(dir + "/cmbloc");
  absl::StatusOr<uint64_t> sz = root.ReadUint(dir + "/cmbsz");
  if (loc.ok() && sz.ok()) {
    absl::StatusOr<CmbRegisters> r = DecodeCmb(static_cast<uint32_t>(*loc), static_cast<uint32_t>(*sz));
    if (r.ok()) c.cmb = *r;
    else c.cmb_note = std::string(r.status().message());
  } else if (c.p2pmem) {
    // Some kernels lost these attributes (visibility bug); p2pmem says a CMB exists.
    c.cmb_note = "cmbloc/cmbsz not shown by this kernel, but a p2pmem pool exists: CMB registers unknown";
  }
}

// The BAR that holds the CMB, from sysfs `resource`: one "start end flags"
// line per resource, BARs 0 to 5 first; a BAR not assigned reads all zeros.
void ReadCmbBar(const SysRoot& root, Controller& c) {
  if (!c.cmb || !c.address) return;
  std::string pci = "/sys/bus/pci/devices/" + c.address->ToString();
  absl::StatusOr<std::string> text = root.Read(pci + "/resource");
  if (!text.ok()) return;
  const int bir = c.cmb->loc.bir;
  std::vector<absl::string_view> lines = absl::StrSplit(*text, '\n', absl::SkipEmpty());
  if (bir >= static_cast<int>(lines.size())) return;
  std::vector<absl::string_view> f = absl::StrSplit(lines[bir], ' ', absl::SkipEmpty());
  uint64_t start = 0, end = 0;
  if (f.size() < 2 || !absl::SimpleHexAtoi(f[0], &start) || !absl::SimpleHexAtoi(f[1], &end) || end <= start)
    return;
  c.cmb_bar = PciBar{.index = bir, .start = start, .size = end - start + 1,
                     .mappable = root.Exists(absl::StrCat(pci, "/resource", bir))};
}

// What in the CMB's size or BAR start fails nvme_map_cmb()'s alignment
// check (it does not look at the offset); empty if nothing.
std::string MisalignedCmb(const CmbRegisters& r, const PciBar& bar) {
  // The driver first clamps the CMB to what the BAR holds past the offset.
  const uint64_t size = std::min(r.size_bytes, bar.size - r.offset_bytes);
  const uint64_t align = KernelRules::kMemremapCompatAlign;
  std::vector<std::string> bad;
  if (size % align) bad.push_back(absl::StrFormat("its size, %u bytes, is not a multiple of 2 MiB", size));
  if (bar.start % align)
    bad.push_back(absl::StrFormat("BAR %d starts at 0x%x, not on a 2 MiB boundary", bar.index, bar.start));
  return absl::StrJoin(bad, "; ");
}

// Whether the running kernel skips a misaligned CMB (KernelFacts::CmbAlignment).
std::string MisalignedWhy(const KernelRules& rules) {
  const std::string arrival = KernelRules::Arrival(KernelFacts::CmbAlignment());
  switch (rules.cmb_alignment_check) {
    case RulePresence::kYes:
      return absl::StrCat("the nvme driver skips such a CMB without a log line (nvme_map_cmb; ", arrival, ")");
    case RulePresence::kMaybe:
      return absl::StrCat("this kernel's stable series took the check that skips such a CMB at a point release "
                          "cmb does not know (", arrival, "); without it, memory hotplug refuses the range");
    case RulePresence::kNo: break;
  }
  return absl::StrCat("this kernel predates the check that skips such a CMB (", arrival,
                      "), so memory hotplug refuses the range and the kernel logs \"failed to register the CMB\"");
}

// Why a CMB past nvme_map_cmb()'s own checks was not registered, in the
// order pci_p2pdma_add_resource() fails: the stub without P2PDMA, no provider
// for unmappable BARs (7.1), then memory hotplug's alignment of the range
// itself (check_pfn_span() in __add_pages, which warns "Misaligned").
std::string RegistrationFailure(const KernelRules& rules, const KernelSupport& k, const PciBar& bar,
                                uint64_t offset, bool logged_failure) {
  if (logged_failure && k.p2pdma == Support::kNo)
    return "the kernel failed to register it (kernel log: \"failed to register the CMB\"), as kernels without "
           "CONFIG_PCI_P2PDMA do";
  if (!bar.mappable && rules.non_mappable_bars_refused)
    return absl::StrCat("the kernel marks this function's BARs as not mappable (no resource", bar.index,
                        " file) and gives such functions no P2P provider (",
                        KernelRules::Arrival(KernelFacts::NonMappableBars()), ")");
  if ((bar.start + offset) % KernelRules::kMemremapCompatAlign)
    return absl::StrFormat("misaligned (it starts at 0x%x, BAR %d plus offset 0x%x, not on a 2 MiB boundary): "
                           "memory hotplug refuses the range, and the kernel logs \"failed to register the CMB\"",
                           bar.start + offset, bar.index, offset);
  return "";
}

// Why the kernel published no pool for a CMB whose registers show, in the
// order nvme_map_cmb() checks: offset past the BAR, size or BAR start off
// the 2 MiB grid (silent since KernelFacts::CmbAlignment), then registration.
std::string NotPublishedNote(const KernelRules& rules, const KernelSupport& k, const Controller& c,
                             bool logged_failure) {
  if (!c.cmb || c.p2pmem) return "";
  const std::string head = "registers present, not published: ";
  const std::string no_p2pdma = k.p2pdma == Support::kNo ? "; this kernel also lacks P2PDMA support" : "";
  if (const std::optional<PciBar>& bar = c.cmb_bar) {
    if (c.cmb->offset_bytes > bar->size)
      return absl::StrFormat("%sthe CMB's offset 0x%x lies beyond BAR %d (%u bytes), so the nvme driver skips it%s",
                             head, c.cmb->offset_bytes, bar->index, bar->size, no_p2pdma);
    if (const std::string bad = MisalignedCmb(*c.cmb, *bar); !bad.empty())
      return absl::StrCat(head, "misaligned (", bad, "): ", MisalignedWhy(rules), no_p2pdma);
    if (std::string why = RegistrationFailure(rules, k, *bar, c.cmb->offset_bytes, logged_failure); !why.empty())
      return head + why;
  }
  if (logged_failure)
    return absl::StrCat(head, "the kernel failed to register it (kernel log: \"failed to register the CMB\")");
  if (k.p2pdma == Support::kNo) return absl::StrCat(head, "this kernel lacks P2PDMA support (", k.evidence, ")");
  return absl::StrCat(head, "the kernel did not register it for P2PDMA",
                      c.cmb_bar ? "" : " (where its BAR lies could not be read, so its alignment is not known)");
}

// The controller's namespaces, by nsid: nvmeXnY entries, and the heads of
// native multipath's hidden paths (nvmeScCnN is a path of nvmeSnN).
absl::Status ReadNamespaces(const SysRoot& root, const std::string& dir, const DeviceUse& use, Controller& c) {
  CMB_ASSIGN_OR_RETURN(std::vector<std::string> entries, root.List(dir));
  static const std::regex kNs(R"(nvme(\d+)n(\d+))");
  static const std::regex kPathNs(R"(nvme(\d+)c(\d+)n(\d+))");
  std::set<std::string> names;
  std::smatch m;
  for (const std::string& e : entries) {
    if (std::regex_match(e, m, kNs)) names.insert(e);
    else if (std::regex_match(e, m, kPathNs)) names.insert(absl::StrCat("nvme", m[1].str(), "n", m[3].str()));
  }
  for (const std::string& n : names) {
    if (!root.Exists("/sys/block/" + n)) continue;
    CMB_ASSIGN_OR_RETURN(Namespace ns, ReadNamespace(root, n, use));
    c.namespaces.push_back(std::move(ns));
  }
  std::sort(c.namespaces.begin(), c.namespaces.end(),
            [](const Namespace& a, const Namespace& b) { return a.nsid < b.nsid; });
  return absl::OkStatus();
}

// The running kernel's configuration and where it came from: /proc/config.gz
// (CONFIG_IKCONFIG_PROC), else /boot/config-<release>; empty when neither.
std::pair<std::string, std::string> ReadKernelConfig(const SysRoot& root, const std::string& release) {
  if (absl::StatusOr<std::string> gz = root.Read("/proc/config.gz"); gz.ok()) {
    std::string config;
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK) {
      zs.next_in = reinterpret_cast<Bytef*>(gz->data());
      zs.avail_in = static_cast<uInt>(gz->size());
      char buf[65536];
      int rc;
      do {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        config.append(buf, sizeof buf - zs.avail_out);
      } while (rc == Z_OK);
      inflateEnd(&zs);
      if (rc == Z_STREAM_END) return {config, "/proc/config.gz"};
    }
  }
  if (release.empty()) return {};
  std::string path = "/boot/config-" + release;
  if (absl::StatusOr<std::string> s = root.Read(path); s.ok()) return {*s, path};
  return {};
}

bool IsFabricTransport(absl::string_view t) { return t == "tcp" || t == "rdma" || t == "fc" || t == "loop"; }

// "600" -> 600; "off" -> nullopt with *off set.
std::optional<int> Seconds(const SysRoot& root, const std::string& path, bool* off) {
  absl::StatusOr<std::string> v = root.ReadAttr(path);
  int n = 0;
  if (v.ok() && *v == "off" && off) *off = true;
  if (v.ok() && absl::SimpleAtoi(*v, &n)) return n;
  return std::nullopt;
}

// An IPv4 route of /proc/net/route that covers `dst` (network byte order, as
// the kernel prints the words): its interface and prefix length.
struct RouteHit {
  std::string iface;
  int prefix = -1;
  uint32_t metric = 0;
};

void BetterRoute(RouteHit& best, absl::string_view iface, int prefix, uint32_t metric) {
  if (prefix > best.prefix || (prefix == best.prefix && metric < best.metric)) best = {std::string(iface), prefix, metric};
}

RouteHit RouteV4(const SysRoot& root, const in_addr& dst) {
  RouteHit best;
  absl::StatusOr<std::string> table = root.Read("/proc/net/route");
  if (!table.ok()) return best;
  for (absl::string_view line : absl::StrSplit(*table, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    uint32_t net = 0, mask = 0, metric = 0, flags = 0;
    if (f.size() < 8 || !absl::SimpleHexAtoi(f[1], &net) || !absl::SimpleHexAtoi(f[7], &mask) ||
        !absl::SimpleAtoi(f[6], &metric) || !absl::SimpleHexAtoi(f[3], &flags))
      continue;  // the header line, or a malformed one
    constexpr uint32_t kUp = 0x0001, kReject = 0x0200;  // RTF_UP, RTF_REJECT
    if ((flags & kUp) && !(flags & kReject) && (dst.s_addr & mask) == net)
      BetterRoute(best, f[0], std::popcount(mask), metric);
  }
  return best;
}

// /proc/net/ipv6_route: "dst plen src plen nexthop metric refcnt use flags iface", addresses in hex.
RouteHit RouteV6(const SysRoot& root, const in6_addr& dst) {
  RouteHit best;
  absl::StatusOr<std::string> table = root.Read("/proc/net/ipv6_route");
  if (!table.ok()) return best;
  for (absl::string_view line : absl::StrSplit(*table, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int plen = 0;
    uint32_t metric = 0;
    if (f.size() < 10 || f[0].size() != 32 || !absl::SimpleHexAtoi(f[1], &plen) || plen > 128 ||
        !absl::SimpleHexAtoi(f[5], &metric))
      continue;
    bool match = true;
    for (int bit = 0; bit < plen && match; ++bit) {
      int nibble = 0;
      if (!absl::SimpleHexAtoi(f[0].substr(bit / 4, 1), &nibble)) match = false;
      const bool want = (nibble >> (3 - bit % 4)) & 1;
      const bool have = (dst.s6_addr[bit / 8] >> (7 - bit % 8)) & 1;
      if (want != have) match = false;
    }
    if (match) BetterRoute(best, f[9], plen, metric);
  }
  return best;
}

// The interface the kernel would send to `traddr` from, by the main routing
// table (policy routing and VRFs aside); empty when unknown.
std::string RouteInterface(const SysRoot& root, const std::string& traddr) {
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, traddr.c_str(), &v4) == 1) return RouteV4(root, v4).iface;
  if (::inet_pton(AF_INET6, traddr.c_str(), &v6) == 1) return RouteV6(root, v6).iface;
  return "";
}

// Whether ib device `ib` is bound to network interface `netdev`: rxe's
// `parent`, a RoCE GID's ndev, or one PCI function under both.
bool IbBoundTo(const SysRoot& root, const std::string& ib, const std::string& netdev) {
  const std::string dir = "/sys/class/infiniband/" + ib;
  if (AttrOr(root, dir + "/parent") == netdev) return true;
  if (absl::StatusOr<std::vector<std::string>> ports = root.List(dir + "/ports"); ports.ok())
    for (const std::string& p : *ports) {
      const std::string ndevs = dir + "/ports/" + p + "/gid_attrs/ndevs";
      absl::StatusOr<std::vector<std::string>> idx = root.List(ndevs);
      if (!idx.ok()) continue;
      for (const std::string& i : *idx)  // unused GID entries fail to read (EINVAL)
        if (AttrOr(root, ndevs + "/" + i) == netdev) return true;
    }
  absl::StatusOr<std::string> a = root.Resolve(dir + "/device");
  absl::StatusOr<std::string> b = root.Resolve("/sys/class/net/" + netdev + "/device");
  return a.ok() && b.ok() && *a == *b;
}

// The ib device's PCI function: its `device` link ends in a BDF for a
// hardware RNIC; soft RoCE/iWARP devices have none.
std::optional<PciAddress> IbPciFunction(const SysRoot& root, const std::string& ib) {
  absl::StatusOr<std::string> real = root.Resolve("/sys/class/infiniband/" + ib + "/device");
  if (!real.ok()) return std::nullopt;
  absl::StatusOr<PciAddress> a = PciAddress::Parse(real->substr(real->rfind('/') + 1));
  return a.ok() ? std::optional<PciAddress>(*a) : std::nullopt;
}

// The host's RDMA device for an nvme-rdma controller (RdmaNic), or why not.
absl::StatusOr<RdmaNic> FindRdmaNic(const SysRoot& root, const FabricInfo& f) {
  absl::StatusOr<std::vector<std::string>> ibs = root.List("/sys/class/infiniband");
  if (!ibs.ok() || ibs->empty()) return absl::NotFoundError("no RDMA device is registered (/sys/class/infiniband is empty)");
  RdmaNic nic;
  nic.netdev = f.host_iface.empty() ? RouteInterface(root, f.traddr) : f.host_iface;
  if (!nic.netdev.empty()) {
    for (const std::string& ib : *ibs)
      if (IbBoundTo(root, ib, nic.netdev)) {
        nic.ib_device = ib;
        nic.how = f.host_iface.empty()
                      ? absl::StrCat("the route to ", f.traddr, " leaves through ", nic.netdev, ", which ", ib, " serves")
                      : absl::StrCat("the connection was made through ", nic.netdev, ", which ", ib, " serves");
        break;
      }
  }
  if (nic.ib_device.empty() && ibs->size() == 1) {
    nic.ib_device = ibs->front();
    nic.how = absl::StrCat(nic.ib_device, " is the only RDMA device");
  }
  if (nic.ib_device.empty())
    return absl::NotFoundError(absl::StrCat(
        "cannot tell which of the RDMA devices (", absl::StrJoin(*ibs, ", "), ") reaches ", f.traddr,
        nic.netdev.empty() ? ": no route to it in the main table" : absl::StrCat(" through ", nic.netdev)));
  nic.address = IbPciFunction(root, nic.ib_device);
  return nic;
}

FabricInfo ReadFabric(const SysRoot& root, const std::string& dir, const std::string& transport) {
  FabricInfo f;
  ParseFabricAddress(AttrOr(root, dir + "/address"), f);
  f.subsysnqn = AttrOr(root, dir + "/subsysnqn");
  f.state = AttrOr(root, dir + "/state");
  f.ctrl_loss_tmo_s = Seconds(root, dir + "/ctrl_loss_tmo", &f.reconnects_forever);
  f.reconnect_delay_s = Seconds(root, dir + "/reconnect_delay", nullptr);
  if (transport == "rdma") {
    absl::StatusOr<RdmaNic> nic = FindRdmaNic(root, f);
    if (nic.ok()) f.rnic = *nic;
    else f.rnic_note = std::string(nic.status().message());
  }
  return f;
}

// A controller, with its namespaces' use judged from `use` (the mount and
// swap tables and the block devices, read once for all controllers).
absl::StatusOr<Controller> ReadController(const SysRoot& root, const std::string& name, const DeviceUse& use) {
  Controller c;
  c.name = name;
  std::string dir = "/sys/class/nvme/" + name;
  c.transport = AttrOr(root, dir + "/transport");
  c.model = AttrOr(root, dir + "/model");
  c.serial = AttrOr(root, dir + "/serial");
  c.firmware = AttrOr(root, dir + "/firmware_rev");
  if (c.transport == "pcie") {
    absl::StatusOr<PciAddress> a = PciAddress::Parse(AttrOr(root, dir + "/address"));
    if (!a.ok()) {
      // Older kernels lack `address`: the parent of nvme/nvmeX is the PCI device.
      absl::StatusOr<std::string> real = root.Resolve(dir + "/device");
      if (real.ok()) a = PciAddress::Parse(real->substr(real->rfind('/') + 1));
    }
    if (a.ok()) c.address = *a;
  } else if (IsFabricTransport(c.transport)) {
    c.fabric = ReadFabric(root, dir, c.transport);
  }
  if (c.address) ReadPciFunction(root, c);
  ReadCmbRegisters(root, dir, c);
  ReadCmbBar(root, c);
  CMB_RETURN_IF_ERROR(ReadNamespaces(root, dir, use, c));
  return c;
}

}  // namespace

absl::StatusOr<Controller> DiscoverController(const SysRoot& root, const std::string& name) {
  CMB_ASSIGN_OR_RETURN(Controller c, ReadController(root, name, ReadDeviceUse(root)));
  KernelSupport k;  // unknown: one controller's view reads no kernel log or config
  c.p2pmem_note = NotPublishedNote(KernelRules::ForRunning(root), k, c, false);
  return c;
}

KernelSupport DetectKernelSupport(const SysRoot& root, const std::vector<Controller>& controllers) {
  KernelSupport k;
  k.release = AttrOr(root, "/proc/sys/kernel/osrelease");
  for (const Controller& c : controllers) {
    if (c.p2pmem && c.p2pmem->allocate) {
      k.p2pdma = Support::kYes;
      k.evidence = absl::StrCat("p2pmem/allocate present on ", c.address->ToString());
      return k;
    }
  }
  auto [config, source] = ReadKernelConfig(root, k.release);
  if (source.empty()) {
    k.evidence = "no p2pmem/allocate seen and no kernel config readable (/proc/config.gz, /boot/config-" +
                 k.release + ")";
    return k;
  }
  bool p2pdma = false;
  for (absl::string_view line : absl::StrSplit(config, '\n'))
    if (line == "CONFIG_PCI_P2PDMA=y") p2pdma = true;
  // Userspace allocation (p2pmem/allocate) arrived in 6.2 (kernel_rules.h).
  const KernelRules rules = KernelRules::For(k.release);
  const std::string too_old =
      rules.p2pmem_allocate ? ""
                            : absl::StrCat("Linux ", k.release, " also predates userspace p2pmem allocation "
                                           "(p2pmem/allocate, ", KernelSince::kP2pmemAllocate.ToString(),
                                           "): a kernel of ", KernelSince::kP2pmemAllocate.ToString(), " or newer is needed");
  if (!p2pdma) {
    k.p2pdma = Support::kNo;
    k.evidence = absl::StrCat(source, ": CONFIG_PCI_P2PDMA is not set",
                              too_old.empty() ? "" : absl::StrCat("; ", too_old),
                              ": P2P copies need a kernel built with it");
    k.fixes.push_back({.kind = Fix::Kind::kKernel, .need = "CONFIG_PCI_P2PDMA"});
    return k;
  }
  k.p2pdma = too_old.empty() ? Support::kYes : Support::kNo;
  k.evidence = absl::StrCat(source, ": CONFIG_PCI_P2PDMA=y", too_old.empty() ? "" : absl::StrCat(", but ", too_old));
  return k;
}

absl::StatusOr<System> Discover(const SysRoot& root) {
  System sys;
  // nvme_map_cmb() logs this when pci_p2pdma_add_resource() fails, e.g. on
  // kernels without CONFIG_PCI_P2PDMA; cmbloc/cmbsz then stay hidden.
  std::set<std::string> unregistered;
  for (const std::string& line : KernelLog(root)) {
    static const std::regex kFailed(R"(^nvme (nvme\d+): failed to register the CMB)");
    std::smatch m;
    if (std::regex_search(line, m, kFailed)) unregistered.insert(m[1].str());
  }
  if (root.Exists("/sys/class/nvme")) {
    CMB_ASSIGN_OR_RETURN(std::vector<std::string> names, root.List("/sys/class/nvme"));
    // nvme2 after nvme10 otherwise: sort by number.
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    const DeviceUse use = ReadDeviceUse(root);
    for (const std::string& n : names) {
      CMB_ASSIGN_OR_RETURN(Controller c, ReadController(root, n, use));
      if (!c.cmb && unregistered.count(n))
        c.cmb_note = "present, but the kernel failed to register it for P2PDMA (kernel log: \"failed to "
                     "register the CMB\"; CONFIG_PCI_P2PDMA off, or a misaligned CMB); its registers stay hidden";
      sys.controllers.push_back(std::move(c));
    }
  }
  sys.kernel = DetectKernelSupport(root, sys.controllers);
  sys.rules = KernelRules::For(sys.kernel.release);
  if (root.Exists("/sys/class/iommu"))
    if (absl::StatusOr<std::vector<std::string>> l = root.List("/sys/class/iommu"); l.ok()) sys.kernel.iommus = *l;
  if (sys.kernel.p2pdma == Support::kUnknown && !unregistered.empty()) {
    sys.kernel.p2pdma = Support::kNo;
    sys.kernel.evidence = absl::StrCat(
        "the kernel failed to register the CMB of ", *unregistered.begin(),
        " (kernel log), as kernels built without CONFIG_PCI_P2PDMA do (Debian trixie's 6.12 and bookworm's 6.1)");
    sys.kernel.fixes.push_back({.kind = Fix::Kind::kKernel, .need = "CONFIG_PCI_P2PDMA"});
  }
  for (Controller& c : sys.controllers)
    c.p2pmem_note = NotPublishedNote(sys.rules, sys.kernel, c, unregistered.count(c.name) > 0);
  return sys;
}

}  // namespace cmb
