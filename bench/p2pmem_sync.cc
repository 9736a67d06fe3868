// p2pmem-test style copy, for comparison with cmbcp (bench/run.sh): THREADS
// threads, each with its own chunk of p2pmem, loop synchronous O_DIRECT
// pread() from the source block device and pwrite() to the destination, the
// way p2pmem-test (github.com/sbates130272/p2pmem-test) moves data.
//
//   p2pmem_sync CMB_BDF SRC_BLOCKDEV DST_BLOCKDEV BYTES CHUNK THREADS
// Prints: "<bytes> <seconds>".
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "cmb/dma_buffer.h"
#include "cmb/namespace_spec.h"

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s CMB_BDF SRC_BLOCKDEV DST_BLOCKDEV BYTES CHUNK THREADS\n", argv[0]);
    return 2;
  }
  absl::StatusOr<cmb::PciAddress> prov = cmb::PciAddress::Parse(argv[1]);
  absl::StatusOr<uint64_t> bytes = cmb::ParseSize(argv[4]), chunk = cmb::ParseSize(argv[5]);
  int threads = std::atoi(argv[6]);
  if (!prov.ok() || !bytes.ok() || !chunk.ok() || threads < 1 || *chunk == 0 || *bytes % *chunk) {
    std::fprintf(stderr, "bad arguments (BYTES must be a multiple of CHUNK)\n");
    return 2;
  }
  absl::StatusOr<cmb::DmaBuffer> buf = cmb::AllocateP2pMem(cmb::SysRoot::FromEnvironment(), *prov, *chunk * threads);
  if (!buf.ok()) {
    std::fprintf(stderr, "%s\n", buf.status().ToString().c_str());
    return 1;
  }
  int in = ::open(argv[2], O_RDONLY | O_DIRECT), out = ::open(argv[3], O_WRONLY | O_DIRECT);
  if (in < 0 || out < 0) {
    std::perror("open");
    return 1;
  }
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      uint8_t* b = buf->data() + t * *chunk;
      for (uint64_t off; (off = next.fetch_add(*chunk)) < *bytes;) {
        if (::pread(in, b, *chunk, off) != static_cast<ssize_t>(*chunk) ||
            ::pwrite(out, b, *chunk, off) != static_cast<ssize_t>(*chunk)) {
          std::fprintf(stderr, "I/O at %llu: %s\n", static_cast<unsigned long long>(off), std::strerror(errno));
          failed = true;
          return;
        }
      }
    });
  for (std::thread& t : pool) t.join();
  if (::fdatasync(out) != 0) failed = true;
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(in);
  ::close(out);
  if (failed) return 1;
  std::printf("%llu %.6f\n", static_cast<unsigned long long>(*bytes), s);
  return 0;
}
