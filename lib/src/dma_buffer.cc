#include "cmb/fix.h"
#include "cmb/dma_buffer.h"
#include "cmb/page.h"

#include "cmb/access_list.h"

#include "cmb/kernel_rules.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/discovery.h"
#include "cmb/status_macros.h"

namespace cmb {

const char* AccessGroup() { return CMB_ACCESS_GROUP; }
namespace {
size_t PageRound(size_t n) {
  size_t page = static_cast<size_t>(PageBytes());
  return (n + page - 1) / page * page;
}
}  // namespace

absl::StatusOr<DmaSpan> DmaSpan::Subspan(size_t offset, size_t len) const {
  if (offset > size_ || len > size_ - offset)
    return absl::OutOfRangeError(absl::StrFormat(
        "bytes %u..%u are outside the %u-byte DMA buffer", offset, offset + len, size_));
  return DmaSpan(data_ + offset, len, provider_);
}

DmaBuffer::~DmaBuffer() { Reset(); }

DmaBuffer::DmaBuffer(DmaBuffer&& o) noexcept
    : addr_(std::exchange(o.addr_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      kind_(o.kind_),
      provider_(std::move(o.provider_)) {}

DmaBuffer& DmaBuffer::operator=(DmaBuffer&& o) noexcept {
  if (this != &o) {
    Reset();
    addr_ = std::exchange(o.addr_, nullptr);
    size_ = std::exchange(o.size_, 0);
    kind_ = o.kind_;
    provider_ = std::move(o.provider_);
  }
  return *this;
}

void DmaBuffer::Reset() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

std::string DmaBuffer::Describe() const {
  double mib = static_cast<double>(size_) / (1 << 20);
  if (is_p2p()) return absl::StrFormat("%.2f MiB of p2pmem on %s", mib, provider_->ToString());
  return absl::StrFormat("%.2f MiB of host memory", mib);
}

absl::StatusOr<DmaBuffer> AllocateHostMem(size_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError("cannot allocate 0 bytes");
  size_t len = PageRound(bytes);
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) return absl::ErrnoToStatus(errno, absl::StrCat("mmap of ", len, " bytes of host memory"));
  DmaBuffer b;
  b.addr_ = p;
  b.size_ = len;
  b.kind_ = DmaBuffer::Kind::kHost;
  return b;
}

absl::StatusOr<DmaBuffer> AllocateP2pMem(const SysRoot& root, const PciAddress& provider, size_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError("cannot allocate 0 bytes of p2pmem");
  const std::string bdf = provider.ToString();
  CMB_ASSIGN_OR_RETURN(P2pMem pool, ReadP2pMem(root, provider));
  if (!pool.published)
    return WithFix(absl::FailedPreconditionError(absl::StrCat(
                       "the p2pmem of ", bdf, " is not published: its CMB lacks WDS or RDS (CMBSZ), so it cannot ",
                       "carry data; pick another provider")),
                   {.kind = Fix::Kind::kInspect, .look = Fix::Look::kCmbRegisters, .device = bdf});
  std::string alloc = absl::StrCat("/sys/bus/pci/devices/", bdf, "/p2pmem/allocate");
  if (!pool.allocate)
    return WithFix(absl::FailedPreconditionError(absl::StrCat(
                       root.Host(alloc), " does not exist: this kernel cannot hand p2pmem to user space")),
                   {.kind = Fix::Kind::kKernel,
                    .need = absl::StrCat("Linux >= ", KernelSince::kP2pmemAllocate.ToString(), " with CONFIG_PCI_P2PDMA")});
  size_t len = PageRound(bytes);
  if (len > pool.available_bytes)
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s: asked for %u bytes of p2pmem but only %u of %u are available (other users hold the rest, "
        "or the nvme driver keeps queues in the CMB)", bdf, len, pool.available_bytes, pool.size_bytes));
  absl::StatusOr<UniqueFd> file = root.Open(alloc, O_RDWR);
  if (!file.ok()) {
    if (absl::IsPermissionDenied(file.status()))
      return WithFix(absl::PermissionDeniedError(absl::StrCat(
                         "cannot open ", root.Host(alloc), ": permission denied: group '", AccessGroup(),
                         "' may allocate from a CMB only when ", DefaultAccessListPath(),
                         " lists its controller or one of its namespaces")),
                     {.kind = Fix::Kind::kGrantAccess, .device = bdf, .group = AccessGroup(),
                      .list = DefaultAccessListPath()});
    return file.status();
  }
  // MAP_SHARED and offset 0: the kernel refuses anything else (p2pmem_alloc_mmap).
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, file->get(), 0);
  int err = errno;
  file->reset();  // the mapping keeps its own reference
  if (p == MAP_FAILED) {
    if (err == ENOMEM)
      return absl::ResourceExhaustedError(absl::StrFormat(
          "%s: no contiguous run of %u bytes is free in the p2pmem pool (available %u in total, but "
          "fragmented); ask for less", bdf, len, pool.available_bytes));
    return absl::ErrnoToStatus(err, absl::StrCat("mmap of ", len, " bytes of ", root.Host(alloc)));
  }
  DmaBuffer b;
  b.addr_ = p;
  b.size_ = len;
  b.kind_ = DmaBuffer::Kind::kP2p;
  b.provider_ = provider;
  return b;
}

}  // namespace cmb
