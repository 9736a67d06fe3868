// DmaBuffer: a move-only owner of memory that NVMe commands can DMA to and
// from: either P2P memory carved by the kernel out of a device's CMB
// (mmap(MAP_SHARED) of /sys/bus/pci/devices/<bdf>/p2pmem/allocate, Linux >=
// 6.2 with CONFIG_PCI_P2PDMA), or page-aligned host memory for comparison.
//
//   absl::StatusOr<cmb::DmaBuffer> buf = cmb::AllocateP2pMem(root, provider, 8 << 20);
//   if (!buf.ok()) std::cerr << buf.status();   // names the cause and the fix
//   memcpy(buf->data(), src, 4096);             // CPU access is uncached MMIO: slow
//
// Each mmap of `allocate` is one physically contiguous, page-granular,
// first-fit allocation from the provider's pool and is NOT zeroed: map once
// and carve it (see ChunkPool, chunk_pool.h) instead of mapping per I/O. The pool gets the
// pages back when the last reference drops (munmap and finished I/O).
//
// NVMe commands take a DmaSpan, a slice of a DmaBuffer that carries its
// length and provider, so no command can DMA past its buffer or name the
// wrong CMB:
//
//   absl::StatusOr<cmb::DmaSpan> half = buf->Slice(0, buf->size() / 2);
//   queue.Read(slba, *half, tag);   // reads half->size() bytes
//
// Threads: a DmaBuffer is a move-only owner (one owner, any thread); spans are
// views. Lifetime: the buffer must outlive every command that uses a span of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "cmb/pci_address.h"
#include "cmb/sysroot.h"

namespace cmb {

// A view of bytes [offset, offset + size) of one DmaBuffer, with the
// buffer's provider. Cheap to copy. Valid while the mapping lives: moving the
// DmaBuffer keeps it valid, destroying it ends it.
class DmaSpan {
 public:
  DmaSpan() = default;
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The CMB's device, for P2P memory; nullopt for host memory.
  const std::optional<PciAddress>& provider() const { return provider_; }
  bool is_p2p() const { return provider_.has_value(); }
  // Bytes [offset, offset + len) of this span; OutOfRange when they leave it.
  absl::StatusOr<DmaSpan> Subspan(size_t offset, size_t len) const;

 private:
  friend class DmaBuffer;
  DmaSpan(uint8_t* data, size_t size, std::optional<PciAddress> provider)
      : data_(data), size_(size), provider_(std::move(provider)) {}
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::optional<PciAddress> provider_;
};

class DmaBuffer {
 public:
  enum class Kind { kHost, kP2p };

  DmaBuffer() = default;
  ~DmaBuffer();
  DmaBuffer(DmaBuffer&& other) noexcept;
  DmaBuffer& operator=(DmaBuffer&& other) noexcept;
  DmaBuffer(const DmaBuffer&) = delete;
  DmaBuffer& operator=(const DmaBuffer&) = delete;

  uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
  size_t size() const { return size_; }
  Kind kind() const { return kind_; }
  bool is_p2p() const { return kind_ == Kind::kP2p; }
  // The CMB's device, for P2P memory.
  const std::optional<PciAddress>& provider() const { return provider_; }
  std::string Describe() const;  // "64 MiB of p2pmem on 0000:03:00.0"
  // The whole buffer, and bytes [offset, offset + len) of it (OutOfRange
  // when they leave it), as spans for NVMe commands.
  DmaSpan span() const { return DmaSpan(data(), size_, provider_); }
  absl::StatusOr<DmaSpan> Slice(size_t offset, size_t len) const { return span().Subspan(offset, len); }

 private:
  friend absl::StatusOr<DmaBuffer> AllocateP2pMem(const SysRoot&, const PciAddress&, size_t);
  friend absl::StatusOr<DmaBuffer> AllocateHostMem(size_t);
  void Reset();

  void* addr_ = nullptr;
  size_t size_ = 0;
  Kind kind_ = Kind::kHost;
  std::optional<PciAddress> provider_;
};

// `bytes` is rounded up to whole pages. Refuses, before mapping anything, a
// provider without p2pmem, with `published` 0 (its CMB cannot carry data), a
// kernel without `allocate`, and a request above `available`.
absl::StatusOr<DmaBuffer> AllocateP2pMem(const SysRoot& root, const PciAddress& provider, size_t bytes);
absl::StatusOr<DmaBuffer> AllocateHostMem(size_t bytes);

// The group the udev rules give access to (udev/70-cmb.rules.in; set at
// build time with -DCMB_GROUP=...), for hints.
const char* AccessGroup();
inline constexpr const char* kUdevRulesFile = "/usr/lib/udev/rules.d/70-cmb.rules";

}  // namespace cmb
