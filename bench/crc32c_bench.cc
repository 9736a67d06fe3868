// CRC-32C throughput: the library's cmb::Crc32c (ISA-L's crc32_iscsi) against
// the code it replaced (a table, and a loop of the SSE4.2 crc32 instruction),
// kept here only to compare. Both run over the same random buffer, best of a
// few passes, and must agree; numbers are GB/s (10^9 bytes per second).
//
//   build/bench/crc32c_bench [MIB]        (default 256)
// Prints one line per implementation: "<name> <GB/s>".
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "cmb/crc32c.h"

namespace {

// The replaced implementation (lib/src/crc32c.cc before ISA-L), unchanged.
constexpr uint32_t kPoly = 0x82f63b78;

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t OldTable(uint32_t crc, const void* data, size_t n) {
  auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (n--) c = kTable[(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t OldSse42(uint32_t crc, const void* data, size_t n) {
  auto* p = static_cast<const uint8_t*>(data);
  uint64_t c64 = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c64 = __builtin_ia32_crc32di(c64, v);
  }
  uint32_t c = static_cast<uint32_t>(c64);
  for (; n > 0; --n) c = __builtin_ia32_crc32qi(c, *p++);
  return ~c;
}
#endif

using CrcFn = uint32_t (*)(uint32_t, const void*, size_t);

// Best of `passes` whole-buffer runs, in GB/s; `crc` gets the result.
double Measure(CrcFn fn, const std::vector<uint8_t>& buf, int passes, uint32_t& crc) {
  double best = 0;
  for (int i = 0; i < passes; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    crc = fn(0, buf.data(), buf.size());
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(buf.size()) / s / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
  if (mib == 0) {
    std::fprintf(stderr, "usage: %s [MIB]\n", argv[0]);
    return 2;
  }
  std::vector<uint8_t> buf(mib << 20);
  std::mt19937_64 rng(1);
  for (size_t i = 0; i + 8 <= buf.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(&buf[i], &v, 8);
  }
  struct Impl {
    const char* name;
    CrcFn fn;
    int passes;
  };
  std::vector<Impl> impls = {{"cmb::Crc32c", cmb::Crc32c, 5}, {"old-table", OldTable, 1}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("sse4.2")) impls.insert(impls.begin() + 1, {"old-sse4.2", OldSse42, 5});
#endif
  std::printf("CRC-32C over %zu MiB (best of the passes), GB/s:\n", mib);
  uint32_t want = 0;
  for (size_t i = 0; i < impls.size(); ++i) {
    uint32_t crc = 0;
    double gbs = Measure(impls[i].fn, buf, impls[i].passes, crc);
    if (i == 0) want = crc;
    std::printf("  %-20s %7.2f  crc %08x%s\n", impls[i].name, gbs, crc, crc == want ? "" : "  MISMATCH");
    if (crc != want) return 1;
  }
  return 0;
}
