// cmbcp, run as a user runs it, inside the VM testbed (tests/vm/vm.sh) on the
// real kernel. Data is written and checked through the block devices with
// O_DIRECT, independently of cmbcp's own --verify. Every copy also checks that
// the LBAs just before and after the destination range are untouched.
// Suites by topology: CmbcpSwitch (switch), CmbcpLba4k (lba4k: dst has
// 4096-byte LBAs), CmbcpRc (rc: the kernel refuses P2P between root ports),
// CmbcpShared (shared: one namespace reached through two controllers).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cmb/discovery.h"
#include "fake_sysfs.h"
#include "run_command.h"
#include "testbed.h"

namespace {

// cmbcp, on the data path the suite runs on (testbed.h).
std::string Tool() { return cmbtest::WithTestPath(CMBCP_PATH); }
bool OnBlockPath() { return cmbtest::TestPath() == cmb::DataPath::kBlock; }

using cmbtest::Topology;

// Every 8-byte word says which namespace offset it belongs to and the seed
// of the run, so a misplaced or stale block is caught, not just a wrong one.
void Stamp(uint8_t* p, size_t n, uint64_t offset, uint64_t seed) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = (offset + i) * 0x9e3779b97f4a7c15ull ^ seed;
    std::memcpy(p + i, &v, 8);
  }
}

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, AlignedFree>;
Buffer Alloc(size_t n) { return Buffer(static_cast<uint8_t*>(std::aligned_alloc(4096, n))); }

class Cmbcp : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Topology().empty()) << "run inside tests/vm/vm.sh (CMB_TOPOLOGY unset)";
    absl::StatusOr<cmb::System> s = cmb::Discover(cmb::SysRoot());
    ASSERT_TRUE(s.ok()) << s.status();
    sys_ = *s;
    ::setenv("CMB_STATE_DIR", "/tmp/cmbcp-state", 1);
  }
  const cmb::Controller& Ctrl(const std::string& serial) { return cmbtest::BySerial(sys_, serial); }
  const cmb::Namespace& Ns(const std::string& serial) { return Ctrl(serial).namespaces.at(0); }
  std::string Spec(const std::string& serial) { return Ctrl(serial).name + ":1"; }

  // Writes a stamped pattern to bytes [off, off+n) of a namespace.
  void Fill(const std::string& serial, uint64_t off, uint64_t n, uint64_t seed) {
    int fd = ::open(Ns(serial).block_device.c_str(), O_RDWR | O_DIRECT);
    ASSERT_GE(fd, 0) << Ns(serial).block_device << ": " << std::strerror(errno);
    constexpr size_t kStep = 4 << 20;
    Buffer b = Alloc(kStep);
    for (uint64_t done = 0; done < n;) {
      size_t len = std::min<uint64_t>(kStep, n - done);
      Stamp(b.get(), len, off + done, seed);
      ASSERT_EQ(::pwrite(fd, b.get(), len, off + done), static_cast<ssize_t>(len)) << std::strerror(errno);
      done += len;
    }
    ::close(fd);
  }
  std::string Read(const std::string& serial, uint64_t off, uint64_t n) {
    std::string out(n, '\0');
    int fd = ::open(Ns(serial).block_device.c_str(), O_RDONLY | O_DIRECT);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    constexpr size_t kStep = 4 << 20;
    Buffer b = Alloc(kStep);
    for (uint64_t done = 0; done < n;) {
      size_t len = std::min<uint64_t>(kStep, n - done);
      ssize_t r = ::pread(fd, b.get(), len, off + done);
      EXPECT_EQ(r, static_cast<ssize_t>(len)) << std::strerror(errno);
      if (r != static_cast<ssize_t>(len)) break;
      std::memcpy(out.data() + done, b.get(), len);
      done += len;
    }
    ::close(fd);
    return out;
  }
  // Byte-exact check of dst bytes [doff, doff+n) against src [soff, soff+n),
  // in slices so a failure names the first bad dst LBA instead of dumping.
  void ExpectSame(const std::string& src, uint64_t soff, const std::string& dst, uint64_t doff, uint64_t n) {
    constexpr uint64_t kSlice = 64 << 20;
    for (uint64_t at = 0; at < n; at += kSlice) {
      uint64_t len = std::min(kSlice, n - at);
      std::string a = Read(src, soff + at, len), b = Read(dst, doff + at, len);
      if (a != b) {
        size_t i = 0;
        while (a[i] == b[i]) ++i;
        FAIL() << "dst byte " << doff + at + i << " (dst LBA " << (doff + at + i) / Ns(dst).lba_size
               << ") differs from src byte " << soff + at + i;
      }
    }
  }
  // A copy of `n` bytes from src byte `soff` to dst byte `doff`, with guard
  // blocks around the dst range that must survive.
  void CopyAndCheck(const std::string& src, uint64_t soff, const std::string& dst, uint64_t doff, uint64_t n,
                    const std::string& extra = "", uint64_t seed = 1) {
    const uint32_t dl = Ns(dst).lba_size;
    Fill(src, soff, n, seed);
    if (doff >= 4096) Fill(dst, doff - 4096, 4096, 0xbef0);
    Fill(dst, doff + n, 4096, 0xaf7e);
    std::string before = doff >= 4096 ? Read(dst, doff - 4096, 4096) : "";
    std::string after = Read(dst, doff + n, 4096);
    cmbtest::CommandResult r = cmbtest::RunCommand(absl::StrCat(
        Tool(), " ", Spec(src), " ", Spec(dst), " --src-lba ", soff / Ns(src).lba_size, " --dst-lba ", doff / dl,
        " --bytes ", n, " ", extra));
    ASSERT_EQ(r.status, 0) << r.out;
    ExpectSame(src, soff, dst, doff, n);
    if (doff >= 4096) {
      EXPECT_TRUE(Read(dst, doff - 4096, 4096) == before) << "the 4 KiB before the dst range changed";
    }
    EXPECT_TRUE(Read(dst, doff + n, 4096) == after) << "the 4 KiB after the dst range changed";
  }
  nlohmann::json Json(const std::string& args, int expect_status) {
    cmbtest::CommandResult r = cmbtest::RunCommand(absl::StrCat("{ ", Tool(), " ", args, " -o json 2>/tmp/cmbcp.err; }"));
    std::ifstream err("/tmp/cmbcp.err");
    std::string e((std::istreambuf_iterator<char>(err)), {});
    EXPECT_EQ(r.status, expect_status) << r.out << e;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << e;
    last_stderr_ = e;
    return j;
  }
  uint64_t CmbBytes() { return Ctrl("cmb").p2pmem->size_bytes; }

  cmb::System sys_;
  std::string last_stderr_;
};

class CmbcpSwitch : public Cmbcp {
  void SetUp() override {
    Cmbcp::SetUp();
    ASSERT_EQ(Topology(), "switch");
  }
};
class CmbcpLba4k : public Cmbcp {
  void SetUp() override {
    Cmbcp::SetUp();
    ASSERT_EQ(Topology(), "lba4k");
  }
};
class CmbcpRc : public Cmbcp {
  void SetUp() override {
    Cmbcp::SetUp();
    ASSERT_EQ(Topology(), "rc");
  }
};
class CmbcpShared : public Cmbcp {
  void SetUp() override {
    Cmbcp::SetUp();
    ASSERT_EQ(Topology(), "shared");
  }
};

// Runs cmbcp in the background on a rate-limited copy and, once it shows
// progress (so it is past setup and writing), runs `during`; then lets it end.
void WhileCopying(const std::string& cmbcp_args, const std::function<void()>& during) {
  cmbtest::CommandResult r = cmbtest::RunCommand(absl::StrCat(
      Tool(), " ", cmbcp_args, " --progress -o json >/tmp/bg.json 2>/tmp/bg.err & echo $! >/tmp/bg.pid; ",
      "for i in $(seq 600); do grep -q ' copied, ' /tmp/bg.err && exit 0; sleep 0.1; done; exit 1"));
  ASSERT_EQ(r.status, 0) << "cmbcp showed no progress in 60 s: " << cmbtest::RunCommand("cat /tmp/bg.err").out;
  during();
  cmbtest::CommandResult w = cmbtest::RunCommand("pid=$(cat /tmp/bg.pid); kill -INT $pid; "
                                                 "while kill -0 $pid 2>/dev/null; do sleep 0.1; done");
  EXPECT_EQ(w.status, 0) << w.out;
}

TEST_F(CmbcpSwitch, OneLba) { CopyAndCheck("src", 100 * 512, "dst", 200 * 512, 512); }

TEST_F(CmbcpSwitch, OddCountAtOddOffsets) { CopyAndCheck("src", 7 * 512, "dst", 3 * 512, 12345 * 512); }

TEST_F(CmbcpSwitch, ExactlyTheCmbSize) {
  nlohmann::json plan = Json(absl::StrCat(Spec("src"), " ", Spec("dst"), " --bytes ", CmbBytes(), " --dry-run"), 0);
  EXPECT_EQ(plan["plan"]["method"], "p2p");
  EXPECT_EQ(plan["plan"]["provider"], Ctrl("cmb").address->ToString());
  CopyAndCheck("src", 1 << 20, "dst", 2 << 20, CmbBytes(), "", 2);
}

TEST_F(CmbcpSwitch, TenTimesTheCmbSizeWithVerify) {
  const uint64_t n = 10 * CmbBytes();
  Fill("src", 0, n, 3);
  Fill("dst", n, 4096, 0xaf7e);
  std::string after = Read("dst", n, 4096);
  nlohmann::json j = Json(absl::StrCat(Spec("src"), " ", Spec("dst"), " --bytes ", n, " --verify"), 0);
  EXPECT_EQ(j["copy"]["complete"], true);
  EXPECT_EQ(j["copy"]["bytes_done"], n);
  EXPECT_EQ(j["verify"]["match"], true);
  EXPECT_EQ(j["verify"]["src_crc32c"], j["verify"]["dst_crc32c"]);
  EXPECT_LE(j["plan"]["ring_bytes"].get<uint64_t>(), CmbBytes());
  ExpectSame("src", 0, "dst", 0, n);
  EXPECT_TRUE(Read("dst", n, 4096) == after);
  std::cout << "[cmbcp] " << n << " bytes p2p in " << j["copy"]["seconds"] << " s, " << j["copy"]["mb_per_s"]
            << " MB/s; verify " << j["verify"]["seconds"] << " s\n";
}

TEST_F(CmbcpSwitch, VerifyCatchesACorruptedDestination) {
  CopyAndCheck("src", 0, "dst", 0, 1 << 20, "--verify", 4);
  // Corrupt dst LBA 1000 behind cmbcp's back.
  Fill("dst", 1000 * 512, 512, 0xbad);
  nlohmann::json j = Json(absl::StrCat(Spec("src"), " ", Spec("dst"), " --bytes 1M --verify-only"), 5);
  EXPECT_EQ(j["verify"]["match"], false);
  EXPECT_EQ(j["verify"]["first_mismatch_dst_lba"], 1000);
  EXPECT_EQ(j["verify"]["first_mismatch_src_lba"], 1000);
  EXPECT_EQ(j["verify"]["mismatched_dst_lbas"], 1);
  EXPECT_NE(j["verify"]["src_crc32c"], j["verify"]["dst_crc32c"]);
  EXPECT_FALSE(j.contains("copy")) << "--verify-only must not copy";
}

// Passthrough writes bypass the block device's page cache. A reader that
// keeps the destination open (so the kernel does not drop the cache at the
// last close) and cached the range before the copy must see the copy after
// it, as `cmp /dev/nvme1n1 /dev/nvme2n1` would: cmbcp drops that range.
TEST_F(CmbcpSwitch, ABufferedReaderOfTheDestinationSeesTheCopy) {
  // Neither end on a page boundary: the pages at the edges must go too.
  const uint64_t n = (1 << 20) + 5 * 512, at = (64 << 20) + 3 * 512;
  Fill("src", at, n, 0xcace);
  Fill("dst", at, n, 0x01d);
  int fd = ::open(Ns("dst").block_device.c_str(), O_RDONLY);  // buffered, held across the copy
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::string old_dst(n, '\0'), new_dst(n, '\0');
  ASSERT_EQ(::pread(fd, old_dst.data(), n, at), static_cast<ssize_t>(n));  // now in the page cache
  nlohmann::json j = Json(absl::StrCat(Spec("src"), " ", Spec("dst"), " --src-lba ", at / 512, " --dst-lba ",
                                       at / 512, " --bytes ", n), 0);
  EXPECT_EQ(j["copy"]["page_cache_dropped"], true) << j.dump();
  ASSERT_EQ(::pread(fd, new_dst.data(), n, at), static_cast<ssize_t>(n));
  ::close(fd);
  EXPECT_FALSE(new_dst == old_dst) << "a buffered reader still sees the old data";
  EXPECT_TRUE(new_dst == Read("src", at, n)) << "a buffered reader sees neither the old data nor the copy";
  ExpectSame("src", at, "dst", at, n);
}

TEST_F(CmbcpSwitch, MountedDestinationIsRefused) {
  const std::string dev = Ns("dst").block_device;
  ASSERT_EQ(cmbtest::RunCommand("mkfs.ext4 -q -F " + dev + " 16M").status, 0);
  ::mkdir("/tmp/dstmnt", 0755);
  cmbtest::CommandResult m = cmbtest::RunCommand("mount -t ext4 " + dev + " /tmp/dstmnt");
  ASSERT_EQ(m.status, 0) << m.out;
  // The range lies past the 16 MiB file system (which writes its own blocks
  // on umount), so any change there would be cmbcp's.
  const uint64_t at = 32 << 20;
  std::string before = Read("dst", at, 1 << 20);
  std::string args = absl::StrCat(Tool(), " ", Spec("src"), " ", Spec("dst"), " --bytes 1M --dst-lba ", at / 512);
  cmbtest::CommandResult r = cmbtest::RunCommand(args);
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("mounted on /tmp/dstmnt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--force"), std::string::npos) << r.out;
  // With --force the plan passes (shown with --dry-run; nothing is written).
  EXPECT_EQ(cmbtest::RunCommand(args + " --force --dry-run").status, 0);
  EXPECT_TRUE(Read("dst", at, 1 << 20) == before) << "a refused copy wrote to the device";
  EXPECT_EQ(cmbtest::RunCommand("umount /tmp/dstmnt").status, 0);
}

TEST_F(CmbcpSwitch, DestinationIsHeldExclusivelyWhileWritten) {
  // While cmbcp writes, nothing else can claim the destination (mount,
  // swapon, md, mkfs all open it O_EXCL); afterwards it can again.
  const std::string dev = Ns("dst").block_device;
  int excl_errno = 0;
  WhileCopying(absl::StrCat(Spec("src"), " ", Spec("dst"), " --bytes 64M --rate 4M"), [&] {
    int fd = ::open(dev.c_str(), O_RDONLY | O_EXCL);
    excl_errno = fd < 0 ? errno : 0;
    if (fd >= 0) ::close(fd);
    cmbtest::CommandResult m = cmbtest::RunCommand("mkfs.ext4 -q -F " + dev + " 16M");
    EXPECT_NE(m.status, 0) << "mkfs.ext4 formatted the destination during the copy: " << m.out;
  });
  EXPECT_EQ(excl_errno, EBUSY) << "open(O_EXCL) of " << dev << " during the copy: " << std::strerror(excl_errno);
  std::ifstream jf("/tmp/bg.json");
  nlohmann::json j = nlohmann::json::parse(jf, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["copy"]["dst_held_exclusively"], true) << j.dump();
  int fd = ::open(dev.c_str(), O_RDONLY | O_EXCL);
  EXPECT_GE(fd, 0) << "the hold outlived cmbcp: " << std::strerror(errno);
  if (fd >= 0) ::close(fd);
}

TEST_F(CmbcpSwitch, AClaimedDestinationIsRefusedNamingTheClaimant) {
  // This test process holds the destination as mkfs would: cmbcp must
  // refuse before writing and name the process.
  const std::string dev = Ns("dst").block_device;
  Fill("dst", 0, 1 << 20, 0xc1a);
  std::string before = Read("dst", 0, 1 << 20);
  int hold = ::open(dev.c_str(), O_RDONLY | O_EXCL);
  ASSERT_GE(hold, 0) << std::strerror(errno);
  cmbtest::CommandResult r = cmbtest::RunCommand(absl::StrCat(Tool(), " ", Spec("src"), " ", Spec("dst"),
                                                              " --bytes 1M --no-progress"));
  ::close(hold);
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find(dev + " is claimed by another user"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(absl::StrCat(::getpid(), " (")), std::string::npos) << "claimant not named: " << r.out;
  EXPECT_TRUE(Read("dst", 0, 1 << 20) == before) << "a refused copy wrote to the device";
}

TEST_F(CmbcpSwitch, SwapOnTheDestinationIsRefusedAndForceSaysWhatItOverrode) {
  const std::string dev = Ns("dst").block_device;
  ASSERT_EQ(cmbtest::RunCommand("mkswap " + dev + " 65536").status, 0);
  cmbtest::CommandResult on = cmbtest::RunCommand("swapon " + dev);
  ASSERT_EQ(on.status, 0) << on.out;
  std::string args = absl::StrCat(Tool(), " ", Spec("src"), " ", Spec("dst"), " --bytes 1M --dst-lba 262144");
  cmbtest::CommandResult r = cmbtest::RunCommand(args);
  cmbtest::CommandResult f = cmbtest::RunCommand(args + " --force --dry-run");
  EXPECT_EQ(cmbtest::RunCommand("swapoff " + dev).status, 0);
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("swap on " + dev), std::string::npos) << r.out;
  EXPECT_EQ(f.status, 0) << f.out;
  EXPECT_NE(f.out.find("cmbcp: --force: destination " + dev + " is in use (swap on " + dev + ")"), std::string::npos)
      << f.out;
  EXPECT_NE(f.out.find("cmbcp: --force: not holding " + dev + " exclusively"), std::string::npos) << f.out;
}

TEST_F(CmbcpSwitch, AFakeTreeNeverReachesTheRealDeviceOfTheSameName) {
  // The measured hazard: CMB_SYSFS_ROOT names nvme0..nvme2, as this guest
  // does, and a bounce copy planned in the tree must not write the guest's
  // real namespace of that name.
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed();
  std::vector<std::string> real;
  for (const cmb::Controller& c : sys_.controllers) {
    Fill(c.serial, 0, 1 << 20, 0x7ee + real.size());
    real.push_back(Read(c.serial, 0, 1 << 20));
  }
  cmbtest::CommandResult r = cmbtest::RunCommand(absl::StrCat(
      "CMB_SYSFS_ROOT=", t.dir(), " ", Tool(), " --method bounce --allow-bounce --bytes 1M nvme1:1 nvme2:1 --no-progress"));
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find(t.dir() + "/dev/"), std::string::npos) << "the refusal should name the tree's device: " << r.out;
  for (size_t i = 0; i < real.size(); ++i)
    EXPECT_TRUE(Read(sys_.controllers[i].serial, 0, 1 << 20) == real[i])
        << sys_.controllers[i].name << " was written through a fake tree";
}

TEST_F(CmbcpSwitch, OverlappingRangesInOneNamespaceAreRefused) {
  Fill("src", 0, 1 << 20, 5);
  std::string before = Read("src", 0, 1 << 20);
  cmbtest::CommandResult r = cmbtest::RunCommand(
      absl::StrCat(Tool(), " ", Spec("src"), " ", Spec("src"), " --src-lba 0 --dst-lba 100 --count 200"));
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("overlap"), std::string::npos) << r.out;
  EXPECT_TRUE(Read("src", 0, 1 << 20) == before);
  // Disjoint ranges in one namespace: NVMe Copy (QEMU sets ONCS bit 8), no
  // data through the host; on the block path, which cannot send it, P2P.
  nlohmann::json j =
      Json(absl::StrCat(Spec("src"), " ", Spec("src"), " --src-lba 0 --dst-lba 4096 --count 2000"), 0);
  EXPECT_EQ(j["plan"]["method"], OnBlockPath() ? "p2p" : "nvme-copy") << j["plan"].dump();
  ExpectSame("src", 0, "src", 4096 * 512, 2000 * 512);
}

TEST_F(CmbcpSwitch, BeyondTheEndIsRefusedBeforeWriting) {
  uint64_t cap = Ns("dst").capacity_blocks;
  cmbtest::CommandResult r = cmbtest::RunCommand(absl::StrCat(Tool(), " ", Spec("src"), " ", Spec("dst"),
                                                              " --dst-lba ", cap - 10, " --count 11"));
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("beyond the end"), std::string::npos) << r.out;
}

TEST_F(CmbcpSwitch, SpdkCmbCopyArguments) {
  Fill("src", 0, 256 << 10, 6);
  std::string args = absl::StrCat("-r ", Ctrl("src").address->ToString(), "-1-0-512 -w ",
                                   Ctrl("dst").address->ToString(), "-1-2048-512 -c ", Ctrl("cmb").address->ToString());
  nlohmann::json j = Json(args, 0);
  EXPECT_EQ(j["plan"]["provider"], Ctrl("cmb").address->ToString());
  ExpectSame("src", 0, "dst", 2048 * 512, 512 * 512);
}

TEST_F(CmbcpSwitch, InterruptedCopyReportsAPrefixThatResumeCompletes) {
  const uint64_t n = 256 << 20;
  Fill("src", 0, n, 7);
  Fill("dst", 0, n + 4096, 0xd0);  // old data everywhere, so "not yet copied" is visible
  std::string after = Read("dst", n, 4096);
  std::string args = absl::StrCat(Spec("src"), " ", Spec("dst"), " --bytes ", n);
  // --rate keeps the copy running for 16 s at least, however fast the
  // machine; the signal comes once data moves (the first progress line).
  cmbtest::CommandResult r = cmbtest::RunCommand(absl::StrCat(
      Tool(), " ", args, " --rate 16M --progress -o json >/tmp/int.json 2>/tmp/int.err & pid=$!; ",
      "for i in $(seq 600); do grep -q ' copied, ' /tmp/int.err && break; sleep 0.1; done; ",
      "kill -INT $pid; wait $pid; echo rc=$?"));
  EXPECT_NE(r.out.find("rc=130"), std::string::npos) << r.out;
  std::ifstream jf("/tmp/int.json"), ef("/tmp/int.err");
  nlohmann::json j = nlohmann::json::parse(jf, nullptr, false);
  std::string err((std::istreambuf_iterator<char>(ef)), {});
  ASSERT_FALSE(j.is_discarded()) << err;
  EXPECT_EQ(j["copy"]["interrupted"], true);
  uint64_t done = j["copy"]["bytes_done"];
  ASSERT_GT(done, 0u) << err;
  ASSERT_LT(done, n) << "copy finished before the signal, despite --rate";
  EXPECT_EQ(j["copy"]["dst_done"]["lbas"], done / 512);
  EXPECT_NE(err.find(absl::StrCat("LBAs 0..", done / 512 - 1, " (", done, " bytes) are copied")), std::string::npos)
      << err;
  EXPECT_NE(err.find("--resume"), std::string::npos) << err;
  // The reported prefix is exactly there; the byte after it is not guaranteed either way.
  ExpectSame("src", 0, "dst", 0, done);
  std::cout << "[cmbcp] interrupted after " << done << " of " << n << " bytes\n";

  nlohmann::json k = Json(args + " --resume", 0);
  EXPECT_EQ(k["copy"]["resumed_from"], done);
  EXPECT_EQ(k["copy"]["complete"], true);
  ExpectSame("src", 0, "dst", 0, n);
  EXPECT_TRUE(Read("dst", n, 4096) == after);
  // The journal is gone once complete: a second --resume has nothing to do.
  EXPECT_EQ(cmbtest::RunCommand(Tool() + " " + args + " --resume").status, 2);
}

// --rate is an upper bound: 4 MiB at 2 MiB/s cannot finish before the last
// 128 KiB chunk may start, 1.94 s in (a slower machine only takes longer).
TEST_F(CmbcpSwitch, RateLimitBoundsTheAverage) {
  const uint64_t n = 4 << 20, chunk = 128 << 10, rate = 2 << 20;
  Fill("src", 0, n, 11);
  nlohmann::json j = Json(absl::StrCat(Spec("src"), " ", Spec("dst"), " --bytes ", n, " --chunk ", chunk,
                                       " --rate ", rate), 0);
  double floor_s = static_cast<double>(n - chunk) / rate;
  EXPECT_GE(j["copy"]["seconds"].get<double>(), floor_s) << j.dump();
  EXPECT_EQ(j["copy"]["complete"], true);
  ExpectSame("src", 0, "dst", 0, n);
  std::cout << "[cmbcp] 4 MiB at --rate 2M took " << j["copy"]["seconds"] << " s (floor " << floor_s << " s)\n";
}

TEST_F(CmbcpLba4k, Between512And4096ByteLbas) {
  ASSERT_EQ(Ns("src").lba_size, 512u);
  ASSERT_EQ(Ns("dst").lba_size, 4096u);
  CopyAndCheck("src", 8 * 512, "dst", 1 * 4096, 3 << 20);       // 512 -> 4096
  CopyAndCheck("dst", 2 * 4096, "src", 40 * 512, 1 << 20, "", 9);  // 4096 -> 512
  // 7 source LBAs (3584 bytes) are not a whole number of 4096-byte LBAs.
  cmbtest::CommandResult r =
      cmbtest::RunCommand(absl::StrCat(Tool(), " ", Spec("src"), " ", Spec("dst"), " --count 7"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("4096-byte LBAs"), std::string::npos) << r.out;
}

TEST_F(CmbcpRc, NoP2pPathIsExplainedAndBounceIsExplicit) {
  Fill("src", 0, 1 << 20, 10);
  std::string before = Read("dst", 0, 1 << 20);
  cmbtest::CommandResult r = cmbtest::RunCommand(absl::StrCat(Tool(), " ", Spec("src"), " ", Spec("dst"), " --bytes 1M"));
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("no CMB has a P2P path the kernel allows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Fix:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--allow-bounce"), std::string::npos) << r.out;
  EXPECT_TRUE(Read("dst", 0, 1 << 20) == before);
  nlohmann::json j = Json(absl::StrCat(Spec("src"), " ", Spec("dst"), " --bytes 1M --allow-bounce"), 0);
  EXPECT_EQ(j["plan"]["method"], "bounce");
  EXPECT_NE(j["plan"]["reasons"].dump().find("BOUNCE through host memory"), std::string::npos);
  ExpectSame("src", 0, "dst", 0, 1 << 20);
}


// One namespace through two controllers: on a kernel without native
// multipath (the LTS test kernel) they are two block devices with one
// identity; with it (Debian's kernels), one head both controllers lead to.
// Either way an overlapping copy between the two paths is refused.
TEST_F(CmbcpShared, OverlapBetweenTwoPathsToOneNamespaceIsRefused) {
  std::vector<const cmb::Controller*> paths;
  for (const cmb::Controller& c : sys_.controllers)
    if (c.serial == "shared") paths.push_back(&c);
  ASSERT_EQ(paths.size(), 2u) << "the shared topology has two controllers of subsystem cmb-shared";
  std::string a = paths[0]->name + ":1", b = paths[1]->name + ":1";
  Fill("shared", 0, 1 << 20, 0x5a);
  std::string before = Read("shared", 0, 1 << 20);
  cmbtest::CommandResult r =
      cmbtest::RunCommand(absl::StrCat(Tool(), " ", a, " ", b, " --src-lba 0 --dst-lba 100 --count 200"));
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("overlap in the same namespace"), std::string::npos) << r.out;
  EXPECT_TRUE(Read("shared", 0, 1 << 20) == before) << "a refused copy wrote to the namespace";
  // Disjoint ranges between the two paths copy, and read back through either.
  nlohmann::json j = Json(absl::StrCat(a, " ", b, " --src-lba 0 --dst-lba 8192 --count 2048"), 0);
  EXPECT_EQ(j["copy"]["complete"], true) << j.dump();
  ExpectSame("shared", 0, "shared", 8192 * 512, 2048 * 512);
  std::cout << "[cmbcp] paths " << a << " and " << b << ": " << r.out.substr(0, r.out.find('\n')) << "\n";
}

// A controller and its own CMB (own_cmb.h): cmbinfo predicts what the owner
// takes, cmbcp plans by the same prediction, proves it where needed, and
// copies byte-exact with the neighbours unchanged. On the QEMU testbed no
// prediction is a refusal (one-page commands always work there); the
// refusals are unit-tested (CopyPlanOwnCmb.*).
class CmbcpOwnCmb : public Cmbcp {
 protected:
  // cmbinfo -o json's own_cmb for the owner's pair with itself.
  nlohmann::json Predicted(const std::string& owner) {
    cmbtest::CommandResult r = cmbtest::RunCommand(CMBINFO_PATH " -o json");
    EXPECT_EQ(r.status, 0) << r.out;
    nlohmann::json info = nlohmann::json::parse(r.out, nullptr, false);
    std::string a = Ctrl(owner).address->ToString();
    for (const nlohmann::json& e : info["p2p"])
      if (e["provider"] == a && e["client"] == a) return e["own_cmb"];
    ADD_FAILURE() << "cmbinfo shows no pair of " << a << " with itself";
    return nullptr;
  }
  void CopyThroughOwnCmb(const std::string& src, const std::string& dst, const std::string& owner) {
    nlohmann::json own = Predicted(owner);
    ASSERT_TRUE(own.is_object()) << own.dump();
    const uint64_t soff = 3 << 20, doff = 5 << 20, n = (4 << 20) + 3 * 4096;
    Fill(src, soff, n, 0x0c0c);
    Fill(dst, doff - 4096, 4096, 0xbef0);
    Fill(dst, doff + n, 4096, 0xaf7e);
    std::string before = Read(dst, doff - 4096, 4096), after = Read(dst, doff + n, 4096);
    nlohmann::json j = Json(absl::StrCat(Spec(src), " ", Spec(dst), " --src-lba ", soff / Ns(src).lba_size,
                                         " --dst-lba ", doff / Ns(dst).lba_size, " --bytes ", n), 0);
    const nlohmann::json& plan = j["plan"];
    EXPECT_EQ(plan["method"], "p2p") << plan.dump();
    EXPECT_EQ(plan["provider"], Ctrl(owner).address->ToString()) << "the preferred CMB is the owner's";
    ASSERT_TRUE(plan["own_cmb"].is_object()) << plan.dump();
    EXPECT_EQ(plan["own_cmb"]["owner"], Ctrl(owner).name);
    EXPECT_EQ(plan["own_cmb"]["predicted"], own["outcome"]) << "cmbcp and cmbinfo predict alike";
    if (own["outcome"] == "full") {
      EXPECT_TRUE(plan["own_cmb"]["probes"].empty()) << "nothing to prove";
      EXPECT_GT(plan["chunk"].get<uint64_t>(), 4096u);
    } else {
      ASSERT_FALSE(plan["own_cmb"]["probes"].empty()) << "an uncertain path is proven first";
      EXPECT_EQ(plan["own_cmb"]["probes"].back()["accepted"], true);
      // The destination writes from its CMB, so its proof wrote back what it read.
      EXPECT_EQ(plan["own_cmb"]["probes"].back()["wrote_back"], owner == dst) << plan.dump();
      if (own["outcome"] == "page") {
        // Passthrough is held to one page (7.3: an SGL list in host memory);
        // the block layer's commands (PRPs) are not, and root may open the
        // owner's block device: its end goes that way, in whole chunks.
        EXPECT_EQ(plan["own_cmb"]["path"], "block") << plan.dump();
        EXPECT_EQ(plan["own_cmb"]["probes"].back()["path"], "block") << plan.dump();
        EXPECT_GT(plan["chunk"].get<uint64_t>(), 4096u) << plan.dump();
        const nlohmann::json& owner_end = owner == dst ? plan["dst"] : plan["src"];
        const nlohmann::json& other_end = owner == dst ? plan["src"] : plan["dst"];
        EXPECT_EQ(owner_end["path"], "block") << plan.dump();
        EXPECT_EQ(other_end["path"], "passthrough") << plan.dump();
      }
    }
    EXPECT_EQ(j["copy"]["complete"], true) << j.dump();
    ExpectSame(src, soff, dst, doff, n);
    EXPECT_TRUE(Read(dst, doff - 4096, 4096) == before) << "the 4 KiB before the dst range changed";
    EXPECT_TRUE(Read(dst, doff + n, 4096) == after) << "the 4 KiB after the dst range changed";
    std::cout << "[own cmb] " << src << " -> " << dst << " through " << owner << "'s CMB: " << own["outcome"]
              << ", chunk " << plan["chunk"] << ": " << own["reason"].get<std::string>() << "\n";
  }
};

TEST_F(CmbcpOwnCmb, TheDestinationOwnsTheOnlyCmb) {
  ASSERT_EQ(Topology(), "switch");
  CopyThroughOwnCmb("src", "cmb", "cmb");
}

TEST_F(CmbcpOwnCmb, TheSourceOwnsTheOnlyCmb) {
  ASSERT_EQ(Topology(), "switch");
  CopyThroughOwnCmb("cmb", "dst", "cmb");
}

TEST_F(CmbcpOwnCmb, EachEndHasItsOwnCmb) {
  ASSERT_EQ(Topology(), "owncmb");
  ASSERT_TRUE(Ctrl("src").p2pmem && Ctrl("dst").p2pmem) << "the owncmb topology gives src and dst a CMB each";
  CopyThroughOwnCmb("src", "dst", "dst");  // the destination's own first
  CopyThroughOwnCmb("dst", "src", "src");
}

}  // namespace
