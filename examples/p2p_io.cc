// P2P I/O by hand: read LBAs of one namespace into a CMB buffer, then write
// them from there to another namespace; the data never enters host memory.
//   p2p_io CMB SRC DST      e.g. p2p_io nvme0 nvme1:1 nvme2:1
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cmb/discovery.h"
#include "cmb/dma_buffer.h"
#include "cmb/namespace_spec.h"
#include "cmb/nvme_queue.h"
#include "cmb/status_macros.h"

// One command on its own queue, waited for.
absl::Status Run(cmb::NvmeQueue& q, bool write, const cmb::DmaSpan& buf) {
  CMB_RETURN_IF_ERROR(write ? q.Write(0, buf, 0) : q.Read(0, buf, 0));
  CMB_ASSIGN_OR_RETURN(cmb::Completion c, q.Wait());
  return c.status;
}

absl::Status P2pIo(const char* cmb_name, const char* src, const char* dst) {
  cmb::SysRoot root = cmb::SysRoot::FromEnvironment();
  CMB_ASSIGN_OR_RETURN(cmb::System sys, cmb::Discover(root));
  const cmb::Controller* provider = nullptr;
  for (const cmb::Controller& c : sys.controllers)
    if (c.name == cmb_name && c.p2pmem) provider = &c;
  if (provider == nullptr) return absl::NotFoundError(absl::StrCat(cmb_name, ": no controller with P2P memory"));
  CMB_ASSIGN_OR_RETURN(cmb::NamespaceRef s, cmb::ResolveNamespace(root, sys, src));
  CMB_ASSIGN_OR_RETURN(cmb::NamespaceRef d, cmb::ResolveNamespace(root, sys, dst));
  CMB_ASSIGN_OR_RETURN(cmb::DmaBuffer buf, cmb::AllocateP2pMem(root, *provider->address, 128 << 10));
  CMB_ASSIGN_OR_RETURN(cmb::NvmeQueue in, cmb::NvmeQueue::Open(*s.ns, {.depth = 1}, s.controller->address));
  CMB_ASSIGN_OR_RETURN(cmb::NvmeQueue out, cmb::NvmeQueue::Open(*d.ns, {.depth = 1, .writable = true}, d.controller->address));
  CMB_RETURN_IF_ERROR(Run(in, false, buf.span()));
  CMB_RETURN_IF_ERROR(Run(out, true, buf.span()));
  std::printf("moved %zu bytes %s -> %s through %s\n", buf.size(), s.ns->name.c_str(), d.ns->name.c_str(),
              buf.Describe().c_str());
  return absl::OkStatus();
}

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: %s CMB SRC DST\n", argv[0]), 2;
  absl::Status s = P2pIo(argv[1], argv[2], argv[3]);
  if (!s.ok()) std::fprintf(stderr, "p2p_io: %s\n", std::string(s.message()).c_str());
  return s.ok() ? 0 : 1;
}
