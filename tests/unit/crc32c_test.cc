// cmb::Crc32c (ISA-L's crc32_iscsi underneath) against the standard: RFC 3720's
// vectors, a bit-at-a-time reference over every length and alignment the
// vector code splits differently, extending a CRC piece by piece, and a
// buffer longer than ISA-L's int length.
#include <sys/mman.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "cmb/crc32c.h"

namespace {

// CRC-32C one bit at a time: the definition, slow and obviously right.
uint32_t Reference(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
  }
  return ~c;
}

TEST(Crc32cIsal, Rfc3720Vectors) {
  std::vector<uint8_t> ones(32, 0xff), up(32), down(32);
  for (int i = 0; i < 32; ++i) up[i] = static_cast<uint8_t>(i), down[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(cmb::Crc32c(0, ones.data(), ones.size()), 0x62a8ab43u);
  EXPECT_EQ(cmb::Crc32c(0, up.data(), up.size()), 0x46dd794eu);
  EXPECT_EQ(cmb::Crc32c(0, down.data(), down.size()), 0x113fdb5cu);
}

TEST(Crc32cIsal, EqualsTheDefinitionAtEveryLengthAndAlignment) {
  std::vector<uint8_t> buf(4096 + 64);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 131 + (i >> 7));
  for (size_t off = 0; off < 16; ++off)
    for (size_t n = 0; n <= 1100; n += (n < 300 ? 1 : 37))
      ASSERT_EQ(cmb::Crc32c(0, buf.data() + off, n), Reference(buf.data() + off, n)) << off << " " << n;
  EXPECT_EQ(cmb::Crc32c(0, buf.data(), 4096), Reference(buf.data(), 4096));
}

TEST(Crc32cIsal, ExtendsAcrossPieces) {
  std::vector<uint8_t> buf(3000);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i ^ (i >> 3));
  uint32_t whole = cmb::Crc32c(0, buf.data(), buf.size());
  for (size_t a : {0u, 1u, 63u, 64u, 255u, 1024u})
    for (size_t b : {0u, 7u, 512u, 1500u}) {
      uint32_t c = cmb::Crc32c(0, buf.data(), a);
      c = cmb::Crc32c(c, buf.data() + a, b);
      c = cmb::Crc32c(c, buf.data() + a + b, buf.size() - a - b);
      EXPECT_EQ(c, whole) << a << " " << b;
    }
}

// More than INT_MAX bytes in one call (ISA-L takes an int length): zero pages
// mapped read-only cost no memory.
TEST(Crc32cIsal, BufferLongerThanAnInt) {
  const size_t n = (size_t{1} << 31) + 3;
  void* m = mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  auto* p = static_cast<const uint8_t*>(m);
  const size_t cut = 1'000'000'007;
  uint32_t pieces = cmb::Crc32c(cmb::Crc32c(0, p, cut), p + cut, n - cut);
  EXPECT_EQ(cmb::Crc32c(0, p, n), pieces);
  munmap(m, n);
}

}  // namespace
