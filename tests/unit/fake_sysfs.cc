#include "fake_sysfs.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cmbtest {
namespace fs = std::filesystem;

std::vector<uint8_t> MakeConfig(uint16_t vendor, uint16_t device, uint8_t pcie_type,
                                std::optional<uint16_t> acs_ctrl) {
  std::vector<uint8_t> c(4096, 0);
  auto put16 = [&](size_t off, uint16_t v) {
    c[off] = v & 0xff;
    c[off + 1] = v >> 8;
  };
  auto put32 = [&](size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) c[off + i] = (v >> (8 * i)) & 0xff;
  };
  put16(0, vendor);
  put16(2, device);
  put16(6, 0x10);  // capabilities list
  c[0x34] = 0x40;
  c[0x40] = 0x01;  // PM capability, then PCIe at 0x60
  c[0x41] = 0x60;
  c[0x60] = 0x10;
  c[0x61] = 0x00;
  put16(0x62, static_cast<uint16_t>(0x2 | pcie_type << 4));
  // Extended: AER at 0x100 -> ACS at 0x148 (when present).
  put32(0x100, 0x0001 | 1u << 16 | (acs_ctrl ? 0x148u : 0u) << 20);
  if (acs_ctrl) {
    put32(0x148, 0x000d | 1u << 16);
    put16(0x14c, 0x005f);  // capability: SV TB RR CR UF EC? (all but DT)
    put16(0x14e, *acs_ctrl);
  }
  return c;
}

FakeSysfs::FakeSysfs() {
  std::string tmpl = (fs::temp_directory_path() / "cmb-fake-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
  fs::create_directories(dir_ + "/sys/class/nvme");
  fs::create_directories(dir_ + "/sys/class/nvme-generic");
  fs::create_directories(dir_ + "/sys/bus/pci/devices");
  fs::create_directories(dir_ + "/sys/block");
  fs::create_directories(dir_ + "/dev");
  Write("/proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n\n");
  Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
  Write("/proc/sys/kernel/osrelease", "6.12.0-test");
}

FakeSysfs::~FakeSysfs() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void FakeSysfs::Write(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(dir_ + path).parent_path());
  std::ofstream(dir_ + path, std::ios::binary | std::ios::trunc) << content;
}

void FakeSysfs::WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(dir_ + path).parent_path());
  std::ofstream(dir_ + path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void FakeSysfs::Link(const std::string& path, const std::string& target) {
  fs::create_directories(fs::path(dir_ + path).parent_path());
  fs::create_symlink(target, dir_ + path);
}

void FakeSysfs::Remove(const std::string& path) { fs::remove_all(dir_ + path); }

void FakeSysfs::AddSwitchTestbed(int clients) {
  std::string rp = AddBridge(HostBridge(), "0000:00:1c.0", 4);
  std::string up = AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
  for (int i = 0; i <= clients; ++i)
    AddNvme(AddBridge(up, absl::StrFormat("0000:02:%02x.0", i), 6), absl::StrFormat("0000:%02x:00.0", 3 + i),
            absl::StrCat("nvme", i), {.cmb_mb = i == 0 ? 64u : 0u});
}

std::string FakeSysfs::HostBridge(const std::string& name, uint16_t vendor, uint16_t device) {
  std::string hb = "/sys/devices/" + name;
  if (!fs::exists(dir_ + hb)) {
    fs::create_directories(dir_ + hb);
    std::string bdf = absl::StrCat(name.substr(3), ":00.0");
    AddPci(hb, bdf, vendor, device, 0x060000, MakeConfig(vendor, device, 0, std::nullopt));
  }
  return hb;
}

std::string FakeSysfs::AddPci(const std::string& parent, const std::string& bdf, uint16_t vendor,
                              uint16_t device, uint32_t class_code, std::vector<uint8_t> config) {
  std::string p = parent + "/" + bdf;
  Write(p + "/vendor", absl::StrFormat("0x%04x\n", vendor));
  Write(p + "/device", absl::StrFormat("0x%04x\n", device));
  Write(p + "/class", absl::StrFormat("0x%06x\n", class_code));
  Write(p + "/numa_node", "-1\n");
  WriteBytes(p + "/config", config);
  configs_.push_back(p + "/config");
  // /sys/bus/pci/devices/<bdf> -> ../../../devices/...
  Link("/sys/bus/pci/devices/" + bdf, "../../.." + p.substr(4));
  return p;
}

std::string FakeSysfs::AddBridge(const std::string& parent, const std::string& bdf, uint8_t pcie_type,
                                 std::optional<uint16_t> acs_ctrl) {
  // QEMU's IDs, as the VM testbed has them: pcie-root-port, x3130-upstream, xio3130-downstream.
  uint16_t vendor = pcie_type == 4 ? 0x1b36 : 0x104c;
  uint16_t device = pcie_type == 4 ? 0x000c : pcie_type == 5 ? 0x8232 : 0x8233;
  return AddPci(parent, bdf, vendor, device, 0x060400, MakeConfig(vendor, device, pcie_type, acs_ctrl));
}

std::string FakeSysfs::AddNvme(const std::string& parent, const std::string& bdf, const std::string& name,
                               const NvmeOptions& o) {
  std::string p = AddPci(parent, bdf, 0x1b36, 0x0010, 0x010802, MakeConfig(0x1b36, 0x0010, 0, std::nullopt));
  Write(p + "/current_link_speed", "2.5 GT/s PCIe\n");
  Write(p + "/current_link_width", "1\n");
  std::string c = p + "/nvme/" + name;
  Write(c + "/transport", "pcie\n");
  Write(c + "/address", bdf + "\n");
  Write(c + "/model", "QEMU NVMe Ctrl\n");
  Write(c + "/serial", "serial-" + name + "\n");
  Write(c + "/firmware_rev", "9.0\n");
  Link("/sys/class/nvme/" + name, "../../" + c.substr(5));
  if (o.cmb_mb) {
    // QEMU: CMB in BAR2 at offset 0 with CDPMLS and CDPCILS (0x62), SZU=1 MiB (2).
    if (o.cmb_attrs) {
      Write(c + "/cmbloc", "98\n");
      Write(c + "/cmbsz", absl::StrCat((o.cmb_mb << 12) | (2u << 8) | o.cmbsz_flags, "\n"));
    }
    uint64_t size = uint64_t{o.cmb_mb} << 20;
    WriteResources(p, o.cmb_bar_start, o.cmb_bar_bytes ? o.cmb_bar_bytes : size, o.bar_files);
    if (o.pool) {
      Write(p + "/p2pmem/size", absl::StrCat(size, "\n"));
      Write(p + "/p2pmem/available", absl::StrCat(size - 65536, "\n"));
      Write(p + "/p2pmem/published", o.published ? "1\n" : "0\n");
      if (o.allocate) Write(p + "/p2pmem/allocate", "");
    }
  }
  AddNamespaces(c, name, o);
  return p;
}

void FakeSysfs::AddNamespaces(const std::string& c, const std::string& name, const NvmeOptions& o) {
  std::string num = name.substr(4);
  for (int i = 1; i <= o.namespaces; ++i) {
    std::string ns = absl::StrCat(name, "n", i);
    std::string nsdir = c + "/" + ns;
    Write(nsdir + "/nsid", absl::StrCat(i, "\n"));
    Write(nsdir + "/size", absl::StrCat(o.capacity_bytes / 512, "\n"));
    Write(nsdir + "/dev", absl::StrCat("259:", i - 1 + 10 * std::stoi(num), "\n"));
    Write(nsdir + "/queue/logical_block_size", absl::StrCat(o.lba_size, "\n"));
    Write(nsdir + "/queue/max_hw_sectors_kb", absl::StrCat(o.max_hw_sectors_kb, "\n"));
    Write(nsdir + "/queue/max_segments", absl::StrCat(o.max_segments, "\n"));
    Write(nsdir + "/queue/io_poll", o.io_poll ? "1\n" : "0\n");
    // A distinct identity per namespace, as QEMU's default EUI-64s give.
    Write(nsdir + "/wwid", absl::StrFormat("eui.525400000000%02x%02x\n", std::stoi(num), i));
    fs::create_directories(dir_ + nsdir + "/holders");
    Link("/sys/block/" + ns, "../" + nsdir.substr(5));
    std::string ng = absl::StrCat("ng", num, "n", i);
    Write(c + "/" + ng + "/dev", absl::StrCat("240:", i, "\n"));
    Link("/sys/class/nvme-generic/" + ng, "../../" + (c + "/" + ng).substr(5));
  }
}

std::string FakeSysfs::AddFabricNvme(const std::string& name, const FabricOptions& f, const NvmeOptions& o) {
  // nvmf_create_ctrl() puts every fabrics controller under the class device
  // /sys/devices/virtual/nvme-fabrics/ctl: no PCI parent.
  std::string c = "/sys/devices/virtual/nvme-fabrics/ctl/" + name;
  Write(c + "/transport", f.transport + "\n");
  Write(c + "/address", f.address + "\n");
  Write(c + "/subsysnqn", f.subsysnqn + "\n");
  Write(c + "/state", f.state + "\n");
  Write(c + "/ctrl_loss_tmo", f.ctrl_loss_tmo + "\n");
  Write(c + "/reconnect_delay", "10\n");
  Write(c + "/model", "Linux\n");
  Write(c + "/serial", "fabric-" + name + "\n");
  Write(c + "/firmware_rev", "7.3.4\n");
  Link(c + "/device", "../../ctl");
  Link("/sys/class/nvme/" + name, "../../devices/virtual/nvme-fabrics/ctl/" + name);
  AddNamespaces(c, name, o);
  return c;
}

void FakeSysfs::AddNetdev(const std::string& netdev, const std::string& pci_path) {
  std::string d = pci_path.empty() ? "/sys/devices/virtual/net/" + netdev : pci_path + "/net/" + netdev;
  Write(d + "/ifindex", "2\n");
  if (!pci_path.empty()) Link(d + "/device", "../../../" + pci_path.substr(pci_path.rfind('/') + 1));
  Link("/sys/class/net/" + netdev, "../.." + d.substr(4));
}

void FakeSysfs::AddRdmaDevice(const std::string& ib, const std::string& pci_path, const std::string& netdev) {
  // A hardware RNIC registers under its PCI function, with a RoCE GID per
  // address of its netdev; rxe and siw are virtual, and rxe names its netdev in `parent`.
  std::string d = pci_path.empty() ? "/sys/devices/virtual/infiniband/" + ib : pci_path + "/infiniband/" + ib;
  Write(d + "/node_type", "1: CA\n");
  if (pci_path.empty()) {
    Write(d + "/parent", netdev + "\n");
  } else {
    Link(d + "/device", "../../../" + pci_path.substr(pci_path.rfind('/') + 1));
    Write(d + "/ports/1/gid_attrs/ndevs/0", netdev + "\n");
    Write(d + "/ports/1/gid_attrs/ndevs/1", "");  // an unused GID: the kernel fails the read
  }
  Link("/sys/class/infiniband/" + ib, "../.." + d.substr(4));
}

// sysfs `resource` as pci-sysfs.c prints it: BAR0 (16 KiB of registers) and
// BAR2 (the CMB), the rest unassigned, then the ROM; resourceN for each BAR.
void FakeSysfs::WriteResources(const std::string& pci, uint64_t bar2_start, uint64_t bar2_bytes, bool files) {
  const uint64_t bar0 = 0xfebd0000;
  auto line = [](uint64_t start, uint64_t bytes, uint64_t flags) {
    return bytes ? absl::StrFormat("0x%016x 0x%016x 0x%016x\n", start, start + bytes - 1, flags)
                 : absl::StrFormat("0x%016x 0x%016x 0x%016x\n", 0, 0, 0);
  };
  std::string text = line(bar0, 16384, 0x140204) + line(0, 0, 0) + line(bar2_start, bar2_bytes, 0x14220c);
  for (int i = 3; i < 7; ++i) text += line(0, 0, 0);
  Write(pci + "/resource", text);
  if (files) {
    Write(pci + "/resource0", "");
    Write(pci + "/resource2", "");
  }
}

void FakeSysfs::TruncateConfigs() {
  for (const std::string& c : configs_) fs::resize_file(dir_ + c, 64);
}

void FakeSysfs::SetCpu(const std::string& vendor, int family) {
  Write("/proc/cpuinfo", absl::StrFormat("processor\t: 0\nvendor_id\t: %s\ncpu family\t: %d\n\nprocessor\t: 1\n"
                                         "vendor_id\t: %s\ncpu family\t: %d\n\n",
                                         vendor, family, vendor, family));
}

void FakeSysfs::SetKernel(const std::string& release, const std::optional<std::string>& boot_config) {
  Write("/proc/sys/kernel/osrelease", release + "\n");
  if (boot_config) Write("/boot/config-" + release, *boot_config);
}

}  // namespace cmbtest
