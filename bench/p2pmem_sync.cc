// An imitation of p2pmem-test (github.com/sbates130272/p2pmem-test) for
// bench/run.sh, which runs it beside the real tool (bench/build-p2pmem-test.sh)
// and prints how close the two come. It moves data the way p2pmem-test's
// thread_run() does:
// - both block devices opened O_RDWR | O_DIRECT (its CFG_FD_RDWR_DIRECT_NC);
// - THREADS x CHUNK bytes of p2pmem mapped MAP_SHARED at offset 0 of the
//   provider's p2pmem/allocate, thread t using the t-th CHUNK of it;
// - thread t copies its own contiguous slice [t*BYTES/THREADS, (t+1)*BYTES/THREADS),
//   one chunk at a time: a synchronous pread() from the source into its chunk,
//   then a pwrite() of that chunk to the same offset of the destination;
// - the clock runs from before the threads start to after they are joined,
//   as p2pmem-test's gettimeofday() pair does: no open, no mmap, no flush.
// Unlike p2pmem-test it then flushes the destination (fdatasync, a device
// flush) and times that apart, so a run can be compared with cmbcp's, which
// ends with a flush; and it stops on a short transfer, which p2pmem-test
// does not check.
//
//   p2pmem_sync CMB_BDF SRC_BLOCKDEV DST_BLOCKDEV BYTES CHUNK THREADS
// BYTES must be a multiple of CHUNK x THREADS (p2pmem-test: "--chunks not
// evenly divisable by --threads"). Prints: "<bytes> <copy seconds> <flush seconds>".
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
  const int threads = std::atoi(argv[6]);
  if (!prov.ok() || !bytes.ok() || !chunk.ok() || threads < 1 || *chunk == 0 || *bytes % (*chunk * threads)) {
    std::fprintf(stderr, "bad arguments (BYTES must be a multiple of CHUNK x THREADS)\n");
    return 2;
  }
  // The same mapping p2pmem-test makes: MAP_SHARED, offset 0, CHUNK x THREADS.
  absl::StatusOr<cmb::DmaBuffer> buf = cmb::AllocateP2pMem(cmb::SysRoot::FromEnvironment(), *prov, *chunk * threads);
  if (!buf.ok()) {
    std::fprintf(stderr, "%s\n", buf.status().ToString().c_str());
    return 1;
  }
  const int in = ::open(argv[2], O_RDWR | O_DIRECT), out = ::open(argv[3], O_RDWR | O_DIRECT);
  if (in < 0 || out < 0) {
    std::fprintf(stderr, "open %s: %s\n", in < 0 ? argv[2] : argv[3], std::strerror(errno));
    return 1;
  }
  const uint64_t slice = *bytes / threads;
  std::atomic<bool> failed{false};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      uint8_t* b = buf->data() + t * *chunk;
      for (uint64_t off = t * slice; off < (t + 1) * slice; off += *chunk) {
        const ssize_t r = ::pread(in, b, *chunk, off);
        const ssize_t w = r == static_cast<ssize_t>(*chunk) ? ::pwrite(out, b, *chunk, off) : -1;
        if (w != static_cast<ssize_t>(*chunk)) {
          std::fprintf(stderr, "%s at %llu: %s\n", r != static_cast<ssize_t>(*chunk) ? "pread" : "pwrite",
                       static_cast<unsigned long long>(off), r < 0 || w < 0 ? std::strerror(errno) : "short transfer");
          failed = true;
          return;
        }
      }
    });
  for (std::thread& t : pool) t.join();
  const auto t1 = std::chrono::steady_clock::now();
  if (::fdatasync(out) != 0) {
    std::fprintf(stderr, "fdatasync %s: %s\n", argv[3], std::strerror(errno));
    failed = true;
  }
  const auto t2 = std::chrono::steady_clock::now();
  ::close(in);
  ::close(out);
  if (failed) return 1;
  std::printf("%llu %.6f %.6f\n", static_cast<unsigned long long>(*bytes),
              std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
  return 0;
}
