// Discovery: what NVMe controllers, CMBs, p2pmem pools and namespaces this
// machine has, read from sysfs through a SysRoot, and whether the kernel can
// do userspace P2PDMA at all.
//
//   absl::StatusOr<cmb::System> sys = cmb::Discover(cmb::SysRoot::FromEnvironment());
//   for (const cmb::Controller& c : sys->controllers)
//     if (c.p2pmem && c.p2pmem->published) ...  // a usable CMB provider
//
// Threads: Discover reads sysfs and returns a value; a System may be shared
// read-only between threads. It is a snapshot: rediscover after hotplug.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cmb/cmb_registers.h"
#include "cmb/fix.h"
#include "cmb/kernel_rules.h"
#include "cmb/pci_address.h"
#include "cmb/sysroot.h"

namespace cmb {

// /sys/bus/pci/devices/<bdf>/p2pmem/: the kernel's pool over the CMB.
struct P2pMem {
  uint64_t size_bytes = 0;
  uint64_t available_bytes = 0;
  bool published = false;  // the nvme driver publishes only CMBs with WDS and RDS
  bool allocate = false;   // userspace allocation (mmap of p2pmem/allocate), Linux >= 6.2
};

// What names a namespace itself rather than a path to it: the same through
// every controller that reaches it (a shared namespace of an NVMe subsystem,
// dual port, multipath). From /sys/block/<ns>/{wwid,nguid,eui,uuid}; the
// kernel hides nguid, eui and uuid when the controller reports zeros.
struct NamespaceId {
  std::string wwid;   // "eui.00000000000000015254000000000001", "uuid.<...>" or "nvme.<vid>-<serial>-<model>-<nsid>"
  std::string nguid;  // "52540000-0000-0000-0000-000000000001"
  std::string eui;    // "52:54:00:00:00:00:00:01"
  std::string uuid;
  bool empty() const { return wwid.empty() && nguid.empty() && eui.empty() && uuid.empty(); }
};

struct Namespace {
  // The tree it was found in: its device nodes are opened only under this
  // root (SysRoot::Open), never on the host when the tree is not "/".
  SysRoot root;
  uint32_t nsid = 0;
  std::string name;            // "nvme0n1"
  std::string generic_device;  // "/dev/ng0n1", empty when the kernel has none
  std::string block_device;    // "/dev/nvme0n1"
  uint32_t lba_size = 0;       // queue/logical_block_size
  uint64_t capacity_blocks = 0;
  // The largest command any page-aligned buffer fits: queue/max_hw_sectors_kb
  // bytes, and no more pages than queue/max_segments, since the pages of a
  // buffer need not merge into fewer segments (6.1: 127 segments, so a
  // 512 KiB command of scattered pages fails with EINVAL in
  // blk_rq_append_bio, while one of contiguous pages passes).
  uint64_t max_transfer_bytes = 0;
  uint64_t max_hw_transfer_bytes = 0;  // queue/max_hw_sectors_kb * 1024
  uint32_t max_segments = 0;           // queue/max_segments
  bool io_poll = false;                // queue/io_poll: the controller has poll queues (nvme.poll_queues)
  NamespaceId id;
  std::vector<std::string> holders;      // dm/md devices stacked on it or its partitions
  std::vector<std::string> mountpoints;  // where it or its partitions are mounted
  std::vector<std::string> swaps;        // swap areas on it or its partitions (/proc/swaps)
  // "/", "/boot", "/usr" when the file system mounted there lives on this
  // disk, directly, on a partition, or through dm/md/LVM ("/ (through dm-0)").
  std::vector<std::string> system_mounts;
  // Why its use could not be read (mountinfo or /proc/swaps unreadable):
  // non-empty means in_use() is not known, and a writer must not assume false.
  std::string use_unknown;
  // What uses it, one phrase each: "holds /", "mounted on /srv", "swap on
  // /dev/nvme2n1", "held by md0" (use_unknown aside).
  std::vector<std::string> uses() const;
  bool in_use() const {
    return !holders.empty() || !mountpoints.empty() || !swaps.empty() || !system_mounts.empty();
  }
};

// True when a and b are one namespace: the same block device, or the same
// identity (any of wwid, NGUID, EUI-64, UUID equal) through two controllers.
// `why` (optional) gets what matched ("NGUID 5254...").
bool SameNamespace(const Namespace& a, const Namespace& b, std::string* why = nullptr);

// One memory BAR of a PCI function.
struct PciBar {
  int index = 0;
  uint64_t start = 0, size = 0;
  // The kernel shows a resourceN file for it: not so when it marks the
  // function's BARs non_mappable_bars (pci-sysfs.c, 7.3.4).
  bool mappable = true;
};

// The RDMA device that carries an nvme-rdma controller's traffic. sysfs does
// not link the two (nvme-rdma keeps its ib device to itself), so discovery
// finds it as the kernel's route lookup does: the network interface that
// reaches the target, then the ib device bound to that interface.
struct RdmaNic {
  std::string ib_device;               // "mlx5_0", "rxe0"
  std::string netdev;                  // "ens1f0np0"; empty when not known
  std::optional<PciAddress> address;   // its PCI function; nullopt for soft RoCE/iWARP (rxe, siw)
  std::string how;                     // how it was found: "the route to 10.0.0.2 leaves through eth1"
};

// A controller reached over NVMe over Fabrics (tcp, rdma, fc, loop): from
// /sys/class/nvme/nvmeX/{address,subsysnqn,ctrl_loss_tmo,reconnect_delay,state}.
// The kernel creates these under the virtual nvme-fabrics device: they have
// no PCI function of their own (kmod-notes/fabrics.md).
struct FabricInfo {
  std::string traddr;       // "10.0.0.2"; empty for loop
  std::string trsvcid;      // "4420"
  std::string host_traddr;  // the local address asked for at connect, if any
  std::string host_iface;   // the local interface asked for at connect (tcp), if any
  std::string src_addr;     // nvme-tcp's local address while the connection is live
  std::string subsysnqn;
  // Seconds the host keeps reconnecting before it gives the controller up
  // (and fails its I/O): nullopt with reconnects_forever ("off"), or when not shown.
  std::optional<int> ctrl_loss_tmo_s;
  bool reconnects_forever = false;
  std::optional<int> reconnect_delay_s;
  std::string state;        // "live", "connecting", "resetting", "deleting", "dead"
  std::optional<RdmaNic> rnic;  // rdma: the host's RDMA device, when it could be found
  std::string rnic_note;        // rdma: why rnic is absent
};

// Parses the `address` attribute of a fabrics controller:
// "traddr=10.0.0.2,trsvcid=4420,src_addr=10.0.0.1" (keys the kernel omits stay empty).
void ParseFabricAddress(absl::string_view address, FabricInfo& out);

struct Controller {
  std::string name;       // "nvme0"
  std::string transport;  // "pcie", or for NVMe over Fabrics "tcp", "rdma", "fc", "loop"
  std::optional<PciAddress> address;
  std::optional<FabricInfo> fabric;  // set for tcp, rdma, fc and loop controllers
  std::string model, serial, firmware;
  uint16_t pci_vendor = 0, pci_device = 0;  // PCI ID of the function, 0 when unreadable
  int numa_node = -1;
  std::string link_speed;  // "8.0 GT/s PCIe", empty when not shown
  int link_width = 0;
  std::optional<CmbRegisters> cmb;  // only when the kernel shows cmbloc/cmbsz
  std::string cmb_note;  // why cmb is absent or odd ("attributes missing; p2pmem present")
  std::optional<P2pMem> p2pmem;
  // The BAR the CMB lies in (CMBLOC.BIR), from the function's sysfs `resource`
  // (CPU addresses, as pci_resource_start); absent when unset or unreadable.
  std::optional<PciBar> cmb_bar;
  // Why a CMB whose registers show has no p2pmem pool, in plain words:
  // "registers present, not published: misaligned (...)". Empty otherwise.
  std::string p2pmem_note;
  std::vector<Namespace> namespaces;
  // The IOMMU domain of the PCI function (iommu_group/type: "DMA", "DMA-FQ",
  // "identity", ...); empty when no IOMMU manages it.
  std::string iommu_domain;
};

enum class Support { kYes, kNo, kUnknown };
const char* SupportName(Support s);  // "yes", "no", "unknown"

struct KernelSupport {
  std::string release;       // uname -r
  Support p2pdma = Support::kUnknown;
  std::string evidence;      // how we know: "p2pmem/allocate present on 0000:03:00.0"
  std::vector<Fix> fixes;     // what would give a kernel without P2PDMA support it (fix.h)
  // Active IOMMUs (/sys/class/iommu: "dmar0", "ivhd0"). With one, the kernel
  // turns on ACS redirect wherever ports have ACS, which can change verdicts.
  std::vector<std::string> iommus;
};

struct System {
  std::vector<Controller> controllers;
  KernelSupport kernel;
  // What the running kernel (kernel.release) does, by version: the one copy
  // every verdict and prediction made from this System reads.
  KernelRules rules = KernelRules::For("");
  // Controllers with a published p2pmem pool, by index into `controllers`.
  std::vector<size_t> Providers() const;
  const Controller* FindController(absl::string_view name) const;
  const Controller* FindByAddress(const PciAddress& a) const;
};

absl::StatusOr<System> Discover(const SysRoot& root);
absl::StatusOr<Controller> DiscoverController(const SysRoot& root, const std::string& name);
KernelSupport DetectKernelSupport(const SysRoot& root, const std::vector<Controller>& controllers);
absl::StatusOr<P2pMem> ReadP2pMem(const SysRoot& root, const PciAddress& address);

}  // namespace cmb
