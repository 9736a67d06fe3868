// FakeSysfs: builds, in a temporary directory, a tree laid out like the real
// kernel's /sys (symlinks included) for unit tests that need no device.
//
//   FakeSysfs t;
//   std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0");
//   std::string dev = t.AddNvme(rp, "0000:01:00.0", "nvme0", {.cmb_mb = 64});
//   cmb::Discover(t.root());
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cmb/sysroot.h"

namespace cmbtest {

// 4096 bytes of PCIe config space: IDs, a PCIe capability of `pcie_type`
// and, when `acs_ctrl` is set, an ACS extended capability with that control.
std::vector<uint8_t> MakeConfig(uint16_t vendor, uint16_t device, uint8_t pcie_type,
                                std::optional<uint16_t> acs_ctrl);

struct NvmeOptions {
  uint32_t cmb_mb = 0;         // 0: no CMB
  bool cmb_attrs = true;       // kernel shows cmbloc/cmbsz
  bool published = true;
  bool allocate = true;        // p2pmem/allocate (6.2+)
  uint32_t cmbsz_flags = 0x1f; // SQS CQS LISTS RDS WDS
  int namespaces = 1;
  uint32_t lba_size = 512;
  uint64_t capacity_bytes = 1ull << 30;
  uint32_t max_hw_sectors_kb = 512;
  uint32_t max_segments = 128;
  bool io_poll = false;         // queue/io_poll: poll queues (nvme poll_queues > 0)
  bool pool = true;             // the kernel registered the CMB: p2pmem/ exists
  // BAR2, the CMB's (sysfs `resource`): start, and size (0: the CMB's size).
  uint64_t cmb_bar_start = uint64_t{0x38} << 32;
  uint64_t cmb_bar_bytes = 0;
  bool bar_files = true;        // resourceN files (absent with non_mappable_bars)
};

// An NVMe over Fabrics controller as /sys/class/nvme/nvmeX shows it.
struct FabricOptions {
  std::string transport = "tcp";
  std::string address = "traddr=10.0.0.2,trsvcid=4420,src_addr=10.0.0.1";
  std::string subsysnqn = "nqn.2014-08.org.nvmexpress:cmb-test";
  std::string state = "live";
  std::string ctrl_loss_tmo = "600";  // or "off"
};

class FakeSysfs {
 public:
  FakeSysfs();
  ~FakeSysfs();
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  cmb::SysRoot root() const { return cmb::SysRoot(dir_); }
  const std::string& dir() const { return dir_; }

  void Write(const std::string& path, const std::string& content);
  void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes);
  void Link(const std::string& path, const std::string& target);
  void Remove(const std::string& path);

  // "/sys/devices/pci0000:00", created with a 00.0 host bridge device of
  // `vendor:device` (QEMU q35's 8086:29c0 by default).
  std::string HostBridge(const std::string& name = "pci0000:00", uint16_t vendor = 0x8086,
                         uint16_t device = 0x29c0);
  // A PCI function under `parent` (a /sys/devices path); returns its path.
  std::string AddPci(const std::string& parent, const std::string& bdf, uint16_t vendor, uint16_t device,
                     uint32_t class_code, std::vector<uint8_t> config);
  // A bridge (root port 4, switch upstream 5, downstream 6) with optional
  // ACS, with QEMU's IDs for it (1b36:000c, 104c:8232, 104c:8233).
  std::string AddBridge(const std::string& parent, const std::string& bdf, uint8_t pcie_type = 4,
                        std::optional<uint16_t> acs_ctrl = uint16_t{0});
  // An NVMe controller with its namespaces, generic devices and p2pmem.
  std::string AddNvme(const std::string& parent, const std::string& bdf, const std::string& name,
                      const NvmeOptions& o = {});
  // A fabrics controller (virtual, no PCI parent) with namespaces as AddNvme's.
  std::string AddFabricNvme(const std::string& name, const FabricOptions& f = {}, const NvmeOptions& o = {});
  // A network interface, on the PCI function at `pci_path` (a /sys/devices
  // path) or virtual when empty.
  void AddNetdev(const std::string& netdev, const std::string& pci_path);
  // An RDMA device serving `netdev`: a hardware RNIC on `pci_path`, or soft
  // RoCE (rxe, no PCI function) when `pci_path` is empty.
  void AddRdmaDevice(const std::string& ib, const std::string& pci_path, const std::string& netdev);
  // The VM testbed's switch topology: root port 00:1c.0 -> switch (01:00.0
  // up, 02:0N.0 down) -> nvme0 at 03:00.0 with a 64 MiB CMB, then `clients`
  // plain controllers nvme1.. at 04:00.0, 05:00.0, ...
  void AddSwitchTestbed(int clients = 2);
  // Unprivileged view: every config file truncated to 64 bytes.
  void TruncateConfigs();
  void SetCpu(const std::string& vendor, int family);
  void SetKernel(const std::string& release, const std::optional<std::string>& boot_config);
  // A PCI function's sysfs `resource`: BAR0 and BAR2 at `bar2_start`, and
  // their resourceN files when `files`.
  void WriteResources(const std::string& pci, uint64_t bar2_start, uint64_t bar2_bytes, bool files = true);

 private:
  void AddNamespaces(const std::string& ctrl_dir, const std::string& name, const NvmeOptions& o);
  std::string dir_;
  std::vector<std::string> configs_;
};

}  // namespace cmbtest
