// Setting up the kernel's NVMe-oF target (nvmet) through configfs: export
// local namespaces in a subsystem on a port, with each namespace's p2pmem
// chosen and predicted before anything is written; take it down again; save
// and restore the whole configuration, p2pmem included.
//
//   cmb::NvmetExportRequest req{.nqn = "nqn.2026-12.org.example:jbof", .trtype = "tcp",
//                               .traddr = "10.0.0.1", .trsvcid = "4420",
//                               .p2pmem = cmb::P2pMemChoice::kAuto, .hosts = {host_nqn}};
//   req.namespaces.push_back(*ns1);
//   absl::StatusOr<cmb::NvmetExportPlan> plan = cmb::PlanNvmetExport(root, sys, platform, config, req);
//   if (plan.ok()) CMB_RETURN_IF_ERROR(cmb::ApplyNvmetExport(root, *plan));  // configfs untouched on error
//
// The plan refuses, before any write: a namespace in use (mounted, swap, a
// holder), a subsystem or port that exists already, and a p2pmem setting
// the kernel would refuse on enable (nvmet.h). Access is never wider than
// asked: hosts are listed one by one unless allow_any_host is set.
//
// Threads: planning is pure over its inputs; applying, removing and restoring
// write configfs (root only) and must not race another writer of it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmb/discovery.h"
#include "cmb/nvmet.h"
#include "cmb/p2p_path.h"

namespace cmb {

enum class P2pMemChoice { kNone, kAuto, kDevice };

struct NvmetExportRequest {
  std::string nqn{};
  std::vector<Namespace> namespaces{};  // nsid 1, 2, ... in this order
  std::string trtype = "tcp";           // tcp, rdma or loop
  std::string adrfam{};                 // default: ipv4 for tcp and rdma, none for loop
  std::string traddr{}, trsvcid{};      // tcp/rdma: required; trsvcid default 4420
  P2pMemChoice p2pmem = P2pMemChoice::kNone;
  std::optional<PciAddress> p2pmem_device{};  // for kDevice
  std::vector<std::string> hosts{};     // host NQNs allowed to connect
  bool allow_any_host = false;          // any host may connect: only when asked
  bool force = false;                   // export a namespace in use: needs CAP_SYS_ADMIN (else PermissionDenied)
};

struct NvmetExportNamespace {
  uint32_t nsid = 0;
  std::string device_path{};   // the block device
  std::string p2pmem = "0";    // as written to configfs: "0", "1" or a BDF
  NvmetP2pPrediction prediction{};
};

struct NvmetExportPlan {
  std::string nqn{};
  std::string port_id{};       // the port to create (the lowest free number)
  std::string trtype{}, adrfam{}, traddr{}, trsvcid{};
  std::vector<std::string> hosts{};
  bool allow_any_host = false;
  std::vector<NvmetExportNamespace> namespaces{};
  std::vector<std::string> reasons{};  // why each choice, in plain words
};

absl::StatusOr<NvmetExportPlan> PlanNvmetExport(const SysRoot& root, const System& sys, const PlatformFacts& platform,
                                               const NvmetConfig& config, const NvmetExportRequest& request);

// Writes the plan to configfs: hosts, subsystem, namespaces (enabled), port,
// link. On an error, removes what it created and says what failed.
absl::Status ApplyNvmetExport(const SysRoot& root, const NvmetExportPlan& plan);

// Takes subsystem `nqn` down: its namespaces disabled and removed, its port
// links, ports left exporting nothing, and hosts no subsystem allows any more.
absl::Status RemoveNvmetExport(const SysRoot& root, const NvmetConfig& config, const std::string& nqn);

// Writes `config` back into a configfs with none of its subsystems and ports.
absl::Status RestoreNvmetConfig(const SysRoot& root, const NvmetConfig& config);

}  // namespace cmb
