// Read proof (read_proof.h): plan each (CMB, namespace) pair from the P2P
// verdicts, then read the range into the CMB and into host memory.
#include "cmb/read_proof.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "block_queue.h"
#include "cmb/crc32c.h"
#include "cmb/dma_buffer.h"
#include "cmb/nvme_queue.h"
#include "cmb/own_cmb.h"
#include "cmb/page.h"
#include "cmb/status_macros.h"

namespace cmb {
namespace {

constexpr unsigned kDepth = 4;  // reads in flight: enough to keep a device busy, few enough for a small CMB
constexpr std::chrono::milliseconds kWait(30000);

// Why the pair is not read, or empty: the verdict, the pool, the namespace.
std::string WhyNot(const P2pPath& path, const Controller& provider, const Namespace& ns) {
  if (!PathAllowed(path.verdict))
    return absl::StrCat("not read: the verdict is ", PathVerdictName(path.verdict), ": ", path.reason);
  if (!provider.p2pmem || !provider.p2pmem->allocate)
    return absl::StrCat("not read: the kernel does not let a process map ", provider.name,
                        "'s p2pmem (p2pmem/allocate needs Linux ", KernelSince::kP2pmemAllocate.ToString(),
                        " with CONFIG_PCI_P2PDMA)");
  if (ns.lba_size == 0 || ns.capacity_blocks == 0) return absl::StrCat("not read: ", ns.name, " is empty");
  return "";
}

// The bytes to read: as asked, at most the namespace and the free p2pmem, in
// whole LBAs. With less than one LBA free the request stands, so the
// allocation fails and names the bytes free.
void SizeThePair(const Controller& provider, const ReadProofOptions& options, ReadProofPair& p) {
  const uint64_t lba = p.ns.lba_size;
  const uint64_t ns_bytes = p.ns.capacity_blocks * lba;
  uint64_t bytes = std::min(options.bytes, ns_bytes);
  if (bytes < options.bytes) p.note = absl::StrCat(p.ns.name, " holds only ", ns_bytes, " bytes");
  const uint64_t free_bytes = provider.p2pmem->available_bytes / PageBytes() * PageBytes();
  if (free_bytes >= lba && bytes > free_bytes) {
    bytes = free_bytes;
    p.note = absl::StrCat("only ", provider.p2pmem->available_bytes, " bytes of ", provider.name, "'s p2pmem are free");
  }
  p.bytes = std::max<uint64_t>(bytes / lba * lba, lba);
}

// Commands of the namespace's largest transfer, or of one page where the
// own-CMB prediction allows no more on passthrough.
void SizeTheCommands(const System& sys, const Controller& provider, ReadProofPair& p) {
  uint64_t most = p.ns.max_transfer_bytes ? p.ns.max_transfer_bytes : p.bytes;
  if (p.own_cmb && p.path == DataPath::kPassthrough) {
    OwnCmbVerdict v = PredictOwnCmb(sys.rules, provider);
    if (v.command_bytes_limit && v.command_bytes_limit < most) {
      most = v.command_bytes_limit;
      p.note = absl::StrCat(p.note, p.note.empty() ? "" : "; ", "own CMB: ", v.reason);
    }
  }
  p.command_bytes = std::max<uint64_t>(std::min(most, p.bytes) / p.ns.lba_size * p.ns.lba_size, p.ns.lba_size);
}

ReadProofPair PlanPair(const System& sys, const P2pPath& path, const Controller& provider, const Controller& client,
                       const Namespace& ns, const ReadProofOptions& options) {
  ReadProofPair p{.provider = path.provider, .client = path.client, .provider_name = provider.name,
                  .client_name = client.name, .ns = ns, .own_cmb = path.provider == path.client,
                  .verdict = PathVerdictName(path.verdict)};
  p.skipped = WhyNot(path, provider, ns);
  if (!p.tried()) return p;
  if (options.path) {
    p.path = *options.path;
  } else if (!ns.root.MayOpen(ns.generic_device, false) && ns.root.MayOpen(ns.block_device, false)) {
    p.path = DataPath::kBlock;  // as the copy planner does: the node this process may open
  }
  SizeThePair(provider, options, p);
  SizeTheCommands(sys, provider, p);
  return p;
}

// Reads `buf` from LBA 0 of the queue's namespace in `command` byte reads,
// kDepth at a time; the time the reads took.
template <typename Queue>
absl::StatusOr<double> ReadAll(Queue& q, const DmaSpan& buf, uint64_t command, uint32_t lba_size) {
  const auto start = std::chrono::steady_clock::now();
  uint64_t next = 0;
  unsigned in_flight = 0;
  while (next < buf.size() || in_flight > 0) {
    while (next < buf.size() && in_flight < kDepth) {
      const uint64_t len = std::min<uint64_t>(command, buf.size() - next);
      CMB_ASSIGN_OR_RETURN(DmaSpan piece, buf.Subspan(next, len));
      CMB_RETURN_IF_ERROR(q.Read(next / lba_size, piece, next));
      next += len, ++in_flight;
    }
    CMB_ASSIGN_OR_RETURN(Completion c, q.Wait(kWait));
    --in_flight;
    if (!c.status.ok()) return c.status;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The reads into `buf` on the pair's path, read-only.
absl::StatusOr<double> ReadInto(const ReadProofPair& p, const DmaSpan& buf) {
  const QueueOptions qo{.depth = kDepth, .writable = false};
  if (p.path == DataPath::kBlock) {
    CMB_ASSIGN_OR_RETURN(std::unique_ptr<internal::BlockQueue> q, internal::BlockQueue::Open(p.ns, qo, p.client));
    return ReadAll(*q, buf, p.command_bytes, p.ns.lba_size);
  }
  CMB_ASSIGN_OR_RETURN(NvmeQueue q, NvmeQueue::Open(p.ns, qo, p.client));
  return ReadAll(q, buf, p.command_bytes, p.ns.lba_size);
}

}  // namespace

std::vector<ReadProofPair> PlanReadProofs(const System& sys, const std::vector<P2pPath>& paths,
                                          const ReadProofOptions& options) {
  std::vector<ReadProofPair> pairs;
  for (const P2pPath& path : paths) {
    const Controller* provider = sys.FindByAddress(path.provider);
    const Controller* client = sys.FindByAddress(path.client);
    if (!provider || !client) continue;
    for (const Namespace& ns : client->namespaces)
      pairs.push_back(PlanPair(sys, path, *provider, *client, ns, options));
  }
  return pairs;
}

absl::StatusOr<ReadProof> ProveRead(const ReadProofPair& pair) {
  if (!pair.tried()) return absl::FailedPreconditionError(pair.skipped);
  if (pair.bytes == 0 || pair.command_bytes == 0 || pair.ns.lba_size == 0 || pair.bytes % pair.ns.lba_size)
    return absl::InvalidArgumentError(absl::StrCat("a ", pair.bytes, "-byte read is not a whole number of ",
                                                   pair.ns.lba_size, "-byte LBAs"));
  ReadProof r{.bytes = pair.bytes};
  {
    CMB_ASSIGN_OR_RETURN(DmaBuffer cmb, AllocateP2pMem(pair.ns.root, pair.provider, pair.bytes));
    CMB_ASSIGN_OR_RETURN(DmaSpan span, cmb.Slice(0, pair.bytes));
    CMB_ASSIGN_OR_RETURN(r.p2p_seconds, ReadInto(pair, span));
    r.p2p_crc = Crc32c(0, span.data(), span.size());
  }  // the CMB goes back to the pool before the host read
  CMB_ASSIGN_OR_RETURN(DmaBuffer host, AllocateHostMem(pair.bytes));
  CMB_ASSIGN_OR_RETURN(DmaSpan span, host.Slice(0, pair.bytes));
  CMB_ASSIGN_OR_RETURN(r.host_seconds, ReadInto(pair, span));
  r.host_crc = Crc32c(0, span.data(), span.size());
  r.match = r.p2p_crc == r.host_crc;
  return r;
}

}  // namespace cmb
