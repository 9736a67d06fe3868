// ExplainIoFailure (io_failure.h): a failed command in words, by the running
// kernel's rules and the P2P path's prediction.
#include "cmb/access_list.h"
#include "cmb/fix.h"
#include "cmb/io_failure.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmb/kernel_rules.h"
#include "cmb/p2p_path.h"
#include "nvme_status.h"

namespace cmb {
namespace {

// The kernel would not map a P2P buffer for this client (-EREMOTEIO; since
// 6.17 -EINVAL, kernel_rules.h): why, by the running kernel's rules.
absl::Status RefusedP2p(int err, const Namespace& ns, const IoContext& ctx, const KernelRules& rules) {
  std::string msg = absl::StrCat("the kernel refused P2P DMA between client ",
                                 ctx.client ? ctx.client->ToString() : ns.name);
  if (ctx.provider) {
    absl::StrAppend(&msg, " and provider ", ctx.provider->ToString(), " (", std::strerror(err), ", ",
                    rules.Describe(), ")");
    if (ctx.client) {
      absl::StatusOr<P2pPath> p = PredictP2pPath(ns.root, *ctx.provider, *ctx.client);
      if (p.ok() && p->verdict == PathVerdict::kSwitch)
        absl::StrAppend(&msg, ": the rules predicted it allowed (", p->reason, "); the kernel's answer wins");
      else if (p.ok())
        absl::StrAppend(&msg, ": ", p->reason, p->fix.empty() ? "" : ". Fix: ", p->fix);
    }
  }
  return absl::ErrnoToStatus(err, msg);
}

// Why the namespace's controller or a PCI device of the command is going
// away ("nvme3 is deleting (removed)"); empty when nothing is.
std::string Removed(const Namespace& ns, const IoContext& ctx) {
  for (const std::optional<PciAddress>& a : {ctx.client, ctx.provider})
    if (a && !ns.root.Exists("/sys/bus/pci/devices/" + a->ToString()))
      return absl::StrCat("PCI device ", a->ToString(), " is gone (removed)");
  absl::StatusOr<std::string> state = ns.root.Read("/sys/block/" + ns.name + "/device/state");
  if (!state.ok()) return ns.root.Exists("/sys/block/" + ns.name) ? "" : absl::StrCat(ns.name, " is gone (removed)");
  std::string s(absl::StripAsciiWhitespace(*state));
  if (absl::StartsWith(s, "deleting") || s == "dead")
    return absl::StrCat("its controller is ", s, ": the device is gone (removed)");
  return "";
}

}  // namespace

absl::Status ExplainIoFailure(int32_t res, const Namespace& ns, const IoContext& ctx) {
  if (res == 0) return absl::OkStatus();
  const std::string& dev = ctx.block ? ns.block_device : ns.generic_device;
  const char* how = ctx.block ? "O_DIRECT I/O" : "NVMe passthrough";
  if (res < 0) {
    int err = -res;
    KernelRules rules = KernelRules::ForRunning(ns.root);
    // A device being removed fails its commands too (7.3: EINVAL, like a
    // refused pair): its controller's state says so, or it is gone already.
    if (std::string gone = err == EFAULT ? "" : Removed(ns, ctx); !gone.empty())  // EFAULT: more below
      return absl::UnavailableError(absl::StrCat("the command on ", dev, " failed (", std::strerror(err),
                                                 "): ", gone));
    if (err == EREMOTEIO || (ctx.provider && err == rules.unreachable_errno)) return RefusedP2p(err, ns, ctx, rules);
    switch (err) {
      case EACCES:
      case EPERM:
        return WithFix(absl::PermissionDeniedError(absl::StrCat(
                           "the kernel refused the command on ", dev,
                           ": non-root users need the device opened for writing for writes, and the controller's "
                           "Commands Supported and Effects log must allow the command")),
                       {.kind = Fix::Kind::kGrantAccess, .device = dev, .group = AccessGroup(),
                        .list = DefaultAccessListPath()});
      case EOPNOTSUPP:
        return absl::UnimplementedError(absl::StrCat(
            "the kernel does not support this ", how, " on ", dev, " (P2P buffers in it need Linux >= ", KernelSince::kP2pmemAllocate.ToString(),
            " with CONFIG_PCI_P2PDMA)"));
      case EFAULT: {
        // The kernel unmaps every user mapping of p2pmem when its provider
        // goes away (pci_p2pdma_unmap_mappings removes p2pmem/allocate): the
        // buffer's address is then simply unmapped.
        if (ctx.provider) {
          const SysRoot& root = ns.root;
          std::string alloc = absl::StrCat("/sys/bus/pci/devices/", ctx.provider->ToString(), "/p2pmem/allocate");
          if (!root.Exists(alloc))
            return absl::UnavailableError(absl::StrCat(
                "the CMB's P2P memory is gone: its provider ", ctx.provider->ToString(),
                " was removed or unbound (", root.Host(alloc), " no longer exists), and the kernel unmapped the "
                "buffer; command on ", dev, " not sent"));
        }
        return absl::ErrnoToStatus(err, absl::StrCat(
            "the kernel could not pin the data buffer for ", dev,
            " (P2P pages need a kernel whose block layer accepts them, Linux >= ",
            KernelSince::kP2pmemAllocate.ToString(), ")"));
      }
      case ENODEV:
      case ENXIO:
        return absl::UnavailableError(absl::StrCat(
            dev, " is gone (", std::strerror(err),
            "): its controller was removed or unbound from the nvme driver during the I/O"));
      default:
        return absl::ErrnoToStatus(err, absl::StrCat(how, " on ", dev));
    }
  }
  return internal::NvmeStatusError(res, ns.generic_device);
}

}  // namespace cmb
