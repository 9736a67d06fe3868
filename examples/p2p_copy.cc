// The smallest useful cmb program: copy the first MiB of one namespace to
// another through a CMB, peer to peer.   p2p_copy SRC_SERIAL DST_SERIAL CMB_SERIAL
#include <cstdio>
#include <string>

#include "cmb/discovery.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_queue.h"

static const cmb::Controller* Find(const cmb::System& s, const std::string& serial) {
  for (const auto& c : s.controllers) if (c.serial == serial) return &c;
  return nullptr;
}

int main(int argc, char** argv) {
  if (argc != 4) { std::fprintf(stderr, "usage: %s SRC_SERIAL DST_SERIAL CMB_SERIAL\n", argv[0]); return 2; }
  cmb::SysRoot root = cmb::SysRoot::FromEnvironment();
  absl::StatusOr<cmb::System> sys = cmb::Discover(root);
  if (!sys.ok()) { std::fprintf(stderr, "%s\n", sys.status().ToString().c_str()); return 1; }
  const cmb::Controller *src = Find(*sys, argv[1]), *dst = Find(*sys, argv[2]), *prov = Find(*sys, argv[3]);
  if (!src || !dst || !prov) { std::fprintf(stderr, "no controller with that serial\n"); return 1; }
  const cmb::Namespace &sns = src->namespaces.at(0), &dns = dst->namespaces.at(0);
  constexpr size_t kChunk = 128 << 10, kTotal = 1 << 20;
  auto buf = cmb::AllocateP2pMem(root, *prov->address, kChunk);                      // allocate
  auto in = cmb::NvmeQueue::Open(sns, {.depth = 1}, src->address);
  auto out = cmb::NvmeQueue::Open(dns, {.depth = 1, .writable = true}, dst->address);
  for (absl::Status s : {buf.status(), in.status(), out.status()})
    if (!s.ok()) { std::fprintf(stderr, "%s\n", s.ToString().c_str()); return 1; }
  for (size_t off = 0; off < kTotal; off += kChunk) {
    absl::Status s = in->Read(off / sns.lba_size, buf->span(), 0);                      // submit
    absl::StatusOr<cmb::Completion> c = s.ok() ? in->Wait() : absl::StatusOr<cmb::Completion>(s);
    if (c.ok() && c->status.ok()) {
      s = out->Write(off / dns.lba_size, buf->span(), 0);
      c = s.ok() ? out->Wait() : absl::StatusOr<cmb::Completion>(s);
    }
    absl::Status err = !c.ok() ? c.status() : c->status;
    if (!err.ok()) { std::fprintf(stderr, "at byte %zu: %s\n", off, err.ToString().c_str()); return 1; }
  }
  std::printf("copied %zu bytes %s -> %s through %s\n", kTotal, sns.name.c_str(), dns.name.c_str(),
              buf->Describe().c_str());                                                 // report
  return 0;
}
