#include "fio_recipe.h"

#include "absl/strings/str_cat.h"
#include "cmb/kernel_rules.h"
#include "cmb/own_cmb.h"

namespace cmbtools {
namespace {

// The client to read with: another controller the kernel allows, else the owner.
const cmb::Controller* PickClient(const cmb::System& sys, const std::vector<cmb::P2pPath>& paths,
                                  const cmb::Controller& prov) {
  const cmb::Controller* own = nullptr;
  for (const cmb::P2pPath& p : paths) {
    if (!(p.provider == *prov.address) || !cmb::PathAllowed(p.verdict)) continue;
    const cmb::Controller* c = sys.FindByAddress(p.client);
    if (c == nullptr || c->namespaces.empty() || c->namespaces[0].generic_device.empty()) continue;
    if (c != &prov) return c;
    own = c;
  }
  return own;
}

}  // namespace

std::vector<std::string> FioRecipes(const cmb::System& sys, const std::vector<cmb::P2pPath>& paths) {
  std::vector<std::string> out;
  constexpr unsigned kDepth = 8;
  for (size_t i : sys.Providers()) {
    const cmb::Controller& prov = sys.controllers[i];
    if (!prov.address || !prov.p2pmem || !prov.p2pmem->allocate) continue;
    const cmb::Controller* c = PickClient(sys, paths, prov);
    if (c == nullptr) continue;
    const cmb::Namespace& ns = c->namespaces[0];
    // 128 KiB, or what the client's max transfer allows; a CMB's own
    // controller gets one page unless its kernel describes data in the command.
    uint64_t bs = std::min<uint64_t>(128 << 10, ns.max_transfer_bytes) / 4096 * 4096;
    if (c == &prov && cmb::PredictOwnCmb(sys.rules, prov).outcome !=
                          cmb::OwnCmbOutcome::kFull)
      bs = 4096;
    if (bs == 0 || bs % ns.lba_size != 0) continue;
    if (prov.p2pmem->available_bytes < kDepth * bs) continue;  // fio maps iodepth x bs of it
    uint64_t size = std::min<uint64_t>(64 << 20, ns.capacity_blocks * ns.lba_size);
    if (size < (1 << 20)) continue;  // the recipe counts in MiB
    out.push_back(absl::StrCat("fio --name=p2p-read --filename=", ns.generic_device,
                               " --ioengine=io_uring_cmd --cmd_type=nvme --rw=read --bs=", bs / 1024, "k --iodepth=",
                               kDepth, " --size=", size >> 20, "M --iomem=mmapshared:/sys/bus/pci/devices/",
                               prov.address->ToString(), "/p2pmem/allocate"));
  }
  return out;
}

}  // namespace cmbtools
