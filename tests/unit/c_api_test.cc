// The C API (cmb/cmb.h) over a fake sysfs tree ($CMB_SYSFS_ROOT): what a C
// caller sees for good and bad calls (0 or -errno, and the message), for bad
// handles (EBADF), and the errno table. The copies themselves run in the VM
// (tests/vm/c_example_test.sh, python_test.py).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "absl/status/status.h"
#include "c_errno.h"  // lib/src: the table c_api.cc uses (header-only)
#include "cmb/cmb.h"
#include "fake_sysfs.h"

namespace {

// Root port -> switch -> nvme0 (64 MiB CMB), nvme1, nvme2.
struct CApi : ::testing::Test {
  cmbtest::FakeSysfs t;
  cmb_system* sys = nullptr;
  void SetUp() override {
    std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
    std::string up = t.AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
    t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6), "0000:03:00.0", "nvme0", {.cmb_mb = 64});
    t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1");
    t.AddNvme(t.AddBridge(up, "0000:02:02.0", 6), "0000:05:00.0", "nvme2");
    ::setenv("CMB_SYSFS_ROOT", t.dir().c_str(), 1);
    ASSERT_EQ(cmb_discover(&sys), 0) << cmb_last_error();
  }
  void TearDown() override {
    cmb_system_free(sys);
    ::unsetenv("CMB_SYSFS_ROOT");
  }
  // A discovery snapshot freed already: a stale handle.
  cmb_system* FreedSystem() {
    cmb_system* s = nullptr;
    EXPECT_EQ(cmb_discover(&s), 0) << cmb_last_error();
    cmb_system_free(s);
    return s;
  }
  // Regular files where the generic and block devices would be, so that a
  // queue or a copier opens (io_uring permitting) and can then be closed.
  void AddDeviceFiles() {
    for (const char* d : {"/dev/ng0n1", "/dev/ng1n1", "/dev/ng2n1", "/dev/nvme1n1", "/dev/nvme2n1"}) t.Write(d, "");
  }
};

bool Mentions(const char* text, const std::string& what) { return std::string(text).find(what) != std::string::npos; }

TEST_F(CApi, DiscoveryReadsControllersAndNamespaces) {
  // The library, the header and the project (CMakeLists.txt) agree on the version.
  EXPECT_EQ(cmb_version(), CMB_PROJECT_VERSION_NUMBER);
  EXPECT_EQ(CMB_VERSION_MAJOR * 10000 + CMB_VERSION_MINOR * 100 + CMB_VERSION_PATCH, CMB_PROJECT_VERSION_NUMBER);
  EXPECT_TRUE(CMB_VERSION_AT_LEAST(0, 1));
  ASSERT_EQ(cmb_controller_count(sys), 3);
  cmb_controller_info c{};
  ASSERT_EQ(cmb_controller_get(sys, 0, &c), 0);
  EXPECT_STREQ(c.name, "nvme0");
  EXPECT_STREQ(c.address, "0000:03:00.0");
  EXPECT_EQ(c.cmb_bytes, 64ull << 20);
  EXPECT_EQ(c.p2pmem_published, 1);
  EXPECT_EQ(c.namespaces, 1u);
  cmb_namespace_info n{};
  ASSERT_EQ(cmb_namespace_find(sys, "nvme1:1", &n), 0) << cmb_last_error();
  EXPECT_STREQ(n.name, "nvme1n1");
  EXPECT_EQ(n.lba_size, 512u);
  EXPECT_EQ(n.max_transfer_bytes, 512u << 10);
}

// A refusal's fixes come as cmb_copier_opts fields: `force` for a mounted
// destination; no other CMB to name (`via`) and no field a C caller lacks.
TEST_F(CApi, FixesNameTheOptsFields) {
  t.Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 259:20 / /mnt/x rw - xfs /dev/nvme2n1 rw\n");
  cmb_system* mounted = nullptr;
  ASSERT_EQ(cmb_discover(&mounted), 0) << cmb_last_error();
  cmb_copier* cp = nullptr;
  const char* dst[] = {"nvme2:1"};
  EXPECT_EQ(cmb_copier_open(mounted, "nvme1:1", dst, 1, nullptr, &cp), -EOPNOTSUPP);
  const std::string e = cmb_last_error();
  EXPECT_TRUE(Mentions(e.c_str(), "mounted on /mnt/x")) << e;
  EXPECT_TRUE(Mentions(e.c_str(), "; set opts->force, as root")) << e;
  EXPECT_FALSE(Mentions(e.c_str(), "`")) << e;
  EXPECT_EQ(cp, nullptr);
  cmb_system_free(mounted);
}

TEST_F(CApi, BadCallsGetAnErrnoAndAMessage) {
  cmb_controller_info c{};
  EXPECT_EQ(cmb_controller_get(sys, 7, &c), -ERANGE);
  EXPECT_NE(std::string(cmb_last_error()).find("no controller 7"), std::string::npos) << cmb_last_error();
  cmb_namespace_info n{};
  EXPECT_EQ(cmb_namespace_find(sys, "nvme9:1", &n), -ENOENT);
  EXPECT_NE(std::string(cmb_last_error()).find("nvme9"), std::string::npos) << cmb_last_error();
  EXPECT_EQ(cmb_namespace_find(nullptr, "nvme1:1", &n), -EBADF);  // a bad handle, not a bad argument
  cmb_copier* cp = nullptr;
  const char* twice[] = {"nvme2:1", "nvme2:1"};
  EXPECT_EQ(cmb_copier_open(sys, "nvme1:1", twice, 2, nullptr, &cp), -EINVAL);
  EXPECT_NE(std::string(cmb_last_error()).find("same namespace twice"), std::string::npos) << cmb_last_error();
  EXPECT_EQ(cmb_copier_open(sys, "nvme1:1", twice, 0, nullptr, &cp), -EINVAL);
  cmb_copier_opts opts{};
  opts.reserved[2] = 1;
  EXPECT_EQ(cmb_copier_open(sys, "nvme1:1", twice, 1, &opts, &cp), -EINVAL);
  EXPECT_NE(std::string(cmb_last_error()).find("reserved"), std::string::npos) << cmb_last_error();
  EXPECT_EQ(cp, nullptr) << "no handle on failure";
  opts = {};
  opts.flags = CMB_COPIER_PATH_BLOCK << 1;  // a bit no version defines yet
  EXPECT_EQ(cmb_copier_open(sys, "nvme1:1", twice, 1, &opts, &cp), -EINVAL);
  EXPECT_NE(std::string(cmb_last_error()).find("unknown bits in opts->flags"), std::string::npos) << cmb_last_error();
  EXPECT_EQ(cp, nullptr) << "no handle on failure";
  opts.flags = CMB_COPIER_PATH_BLOCK | CMB_COPIER_PATH_PASSTHROUGH;  // one path or the other
  EXPECT_EQ(cmb_copier_open(sys, "nvme1:1", twice, 1, &opts, &cp), -EINVAL);
  EXPECT_NE(std::string(cmb_last_error()).find("both CMB_COPIER_PATH_PASSTHROUGH and CMB_COPIER_PATH_BLOCK"),
            std::string::npos) << cmb_last_error();
  EXPECT_EQ(cp, nullptr) << "no handle on failure";
  cmb_buffer* b = nullptr;
  EXPECT_EQ(cmb_p2p_alloc(sys, "nvme1", 4096, &b), -ENOENT) << cmb_last_error();
  EXPECT_NE(std::string(cmb_last_error()).find("nvme1"), std::string::npos) << cmb_last_error();
}

// A pointer that is not a live handle of the right type is refused, not used.
TEST_F(CApi, ForeignPointersAreRefused) {
  alignas(64) unsigned char junk[256] = {};
  auto* fake_sys = reinterpret_cast<cmb_system*>(junk);
  EXPECT_EQ(cmb_controller_count(fake_sys), -EBADF);
  cmb_buffer* host = nullptr;
  ASSERT_EQ(cmb_host_alloc(8192, &host), 0) << cmb_last_error();
  EXPECT_NE(cmb_buffer_data(host), nullptr);
  EXPECT_EQ(cmb_buffer_size(host), 8192u);
  // A buffer is not a queue, nor a system.
  EXPECT_EQ(cmb_queue_read(reinterpret_cast<cmb_queue*>(host), 0, host, 0, 512), -EBADF);
  EXPECT_EQ(cmb_controller_count(reinterpret_cast<cmb_system*>(host)), -EBADF);
  EXPECT_EQ(cmb_copier_submit(reinterpret_cast<cmb_copier*>(junk), nullptr, 0, nullptr), -EBADF);
  errno = 0;
  cmb_buffer_free(reinterpret_cast<cmb_buffer*>(junk));  // not freed, and said so
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  cmb_buffer_free(host);
  EXPECT_EQ(errno, 0) << "freeing a live handle leaves errno alone";
  cmb_buffer_free(host);  // a second free reads nothing, and says so
  EXPECT_EQ(errno, EBADF);
  EXPECT_TRUE(Mentions(cmb_last_error(), "cmb_buffer_free: buf is not a live cmb_buffer")) << cmb_last_error();
  errno = 0;
  EXPECT_EQ(cmb_buffer_size(host), 0u) << "a freed handle is not read";
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  cmb_buffer_free(nullptr);  // as free(NULL)
  EXPECT_EQ(errno, 0);
}

// Every call that takes a cmb_system answers NULL and a freed one with
// -EBADF before it looks at anything else, and leaves its outputs alone.
TEST_F(CApi, SystemCallsRefuseABadHandle) {
  for (cmb_system* bad : {static_cast<cmb_system*>(nullptr), FreedSystem()}) {
    SCOPED_TRACE(bad ? "freed" : "NULL");
    cmb_controller_info c{};
    cmb_namespace_info n{};
    EXPECT_EQ(cmb_controller_count(bad), -EBADF);
    EXPECT_TRUE(Mentions(cmb_last_error(), "cmb_controller_count: sys is not a live cmb_system")) << cmb_last_error();
    EXPECT_EQ(cmb_controller_get(bad, 0, &c), -EBADF);
    EXPECT_EQ(c.name, nullptr);
    EXPECT_EQ(cmb_controller_get(bad, 0, nullptr), -EBADF) << "the handle is checked first";
    EXPECT_EQ(cmb_namespace_get(bad, 0, 0, &n), -EBADF);
    EXPECT_EQ(cmb_namespace_find(bad, "nvme1:1", &n), -EBADF);
    EXPECT_EQ(n.name, nullptr);
    auto* untouched = reinterpret_cast<cmb_buffer*>(std::uintptr_t{0x1000});
    cmb_buffer* b = untouched;
    EXPECT_EQ(cmb_p2p_alloc(bad, "nvme0", 4096, &b), -EBADF);
    EXPECT_EQ(b, untouched);
    cmb_queue* q = nullptr;
    EXPECT_EQ(cmb_queue_open(bad, "nvme1:1", 0, &q), -EBADF);
    EXPECT_EQ(q, nullptr);
    cmb_copier* cp = nullptr;
    const char* dsts[] = {"nvme2:1"};
    EXPECT_EQ(cmb_copier_open(bad, "nvme1:1", dsts, 1, nullptr, &cp), -EBADF);
    EXPECT_TRUE(Mentions(cmb_last_error(), "cmb_copier_open: sys is not a live cmb_system")) << cmb_last_error();
    EXPECT_EQ(cp, nullptr);
    errno = 0;
    cmb_system_free(bad);
    EXPECT_EQ(errno, bad ? EBADF : 0) << "a second free is reported, NULL is ignored";
  }
  // A live handle with a NULL out-pointer is another failure: EINVAL.
  EXPECT_EQ(cmb_controller_get(sys, 0, nullptr), -EINVAL);
  EXPECT_EQ(cmb_namespace_get(sys, 0, 0, nullptr), -EINVAL);
  EXPECT_EQ(cmb_namespace_find(sys, "nvme1:1", nullptr), -EINVAL);
  EXPECT_EQ(cmb_p2p_alloc(sys, "nvme0", 4096, nullptr), -EINVAL);
  EXPECT_EQ(cmb_queue_open(sys, "nvme1:1", 0, nullptr), -EINVAL);
  const char* dsts[] = {"nvme2:1"};
  EXPECT_EQ(cmb_copier_open(sys, "nvme1:1", dsts, 1, nullptr, nullptr), -EINVAL);
}

// Accessors of a bad buffer give NULL or 0, which a live one never does, and
// errno EBADF; the I/O calls refuse it as a buffer argument too.
TEST_F(CApi, BufferCallsRefuseABadHandle) {
  cmb_buffer* freed = nullptr;
  ASSERT_EQ(cmb_host_alloc(1, &freed), 0) << cmb_last_error();
  EXPECT_EQ(cmb_buffer_size(freed), static_cast<size_t>(::sysconf(_SC_PAGESIZE))) << "whole pages: never 0";
  cmb_buffer_free(freed);
  for (cmb_buffer* bad : {static_cast<cmb_buffer*>(nullptr), freed}) {
    SCOPED_TRACE(bad ? "freed" : "NULL");
    errno = 0;
    EXPECT_EQ(cmb_buffer_data(bad), nullptr);
    EXPECT_EQ(errno, EBADF);
    EXPECT_TRUE(Mentions(cmb_last_error(), "cmb_buffer_data: buf is not a live cmb_buffer")) << cmb_last_error();
    errno = 0;
    EXPECT_EQ(cmb_buffer_size(bad), 0u);
    EXPECT_EQ(errno, EBADF);
    errno = 0;
    cmb_buffer_free(bad);
    EXPECT_EQ(errno, bad ? EBADF : 0);
  }
}

// A queue and a copier that were opened and closed, or NULL when this
// kernel refuses io_uring (then only NULL is tried).
struct Closed {
  cmb_queue* q = nullptr;
  cmb_copier* c = nullptr;
};

Closed OpenAndClose(cmb_system* sys) {
  Closed out;
  if (cmb_queue_open(sys, "nvme1:1", 1, &out.q) == 0) cmb_queue_close(out.q);
  const char* dsts[] = {"nvme2:1"};
  if (cmb_copier_open(sys, "nvme1:1", dsts, 1, nullptr, &out.c) == 0) cmb_copier_close(out.c);
  return out;
}

TEST_F(CApi, QueueCallsRefuseABadHandle) {
  AddDeviceFiles();
  Closed closed = OpenAndClose(sys);
  if (closed.q == nullptr) std::cerr << "no queue opened (" << cmb_last_error() << "): NULL only\n";
  cmb_buffer* live = nullptr;
  ASSERT_EQ(cmb_host_alloc(4096, &live), 0) << cmb_last_error();
  std::vector<cmb_queue*> bads = {nullptr};
  if (closed.q) bads.push_back(closed.q);
  for (cmb_queue* bad : bads) {
    SCOPED_TRACE(bad ? "closed" : "NULL");
    EXPECT_EQ(cmb_queue_read(bad, 0, live, 0, 512), -EBADF);
    EXPECT_TRUE(Mentions(cmb_last_error(), "cmb_queue_read: q is not a live cmb_queue")) << cmb_last_error();
    EXPECT_EQ(cmb_queue_write(bad, 0, live, 0, 512), -EBADF);
    EXPECT_EQ(cmb_queue_read(bad, 0, nullptr, 0, 512), -EBADF);
    errno = 0;
    EXPECT_EQ(cmb_queue_error(bad), nullptr) << "not \"\", which means no error";
    EXPECT_EQ(errno, EBADF);
    errno = 0;
    cmb_queue_close(bad);
    EXPECT_EQ(errno, bad ? EBADF : 0);
  }
  cmb_buffer_free(live);
}

TEST_F(CApi, CopierCallsRefuseABadHandle) {
  AddDeviceFiles();
  Closed closed = OpenAndClose(sys);
  if (closed.c == nullptr) std::cerr << "no copier opened (" << cmb_last_error() << "): NULL only\n";
  std::vector<cmb_copier*> bads = {nullptr};
  if (closed.c) bads.push_back(closed.c);
  for (cmb_copier* bad : bads) {
    SCOPED_TRACE(bad ? "closed" : "NULL");
    cmb_extent e{0, 0, 1};
    uint64_t id = 7;
    EXPECT_EQ(cmb_copier_submit(bad, &e, 1, &id), -EBADF);
    EXPECT_TRUE(Mentions(cmb_last_error(), "cmb_copier_submit: c is not a live cmb_copier")) << cmb_last_error();
    EXPECT_EQ(id, 7u);
    EXPECT_EQ(cmb_copier_submit(bad, nullptr, 1, nullptr), -EBADF) << "the handle is checked first";
    EXPECT_EQ(cmb_copier_cancel(bad, 1), -EBADF);
    EXPECT_EQ(cmb_copier_event_fd(bad), -EBADF);
    cmb_completion done{};
    EXPECT_EQ(cmb_copier_process(bad, &done, 1), -EBADF);
    EXPECT_EQ(cmb_copier_wait(bad, 1, 0, &done), -EBADF);
    uint64_t bytes = 99;
    EXPECT_EQ(cmb_copier_progress_get(bad, 1, &bytes), -EBADF);
    EXPECT_EQ(bytes, 99u);
    errno = 0;
    EXPECT_EQ(cmb_copier_progress(bad, 1), 0u);
    EXPECT_EQ(errno, EBADF);
    errno = 0;
    EXPECT_EQ(cmb_copier_plan(bad), nullptr);
    EXPECT_EQ(errno, EBADF);
    errno = 0;
    EXPECT_EQ(cmb_copier_error(bad), nullptr) << "not \"\", which means no error";
    EXPECT_EQ(errno, EBADF);
    errno = 0;
    cmb_copier_close(bad);
    EXPECT_EQ(errno, bad ? EBADF : 0);
  }
}

// A live copier: its accessors answer with data, errno untouched, and
// progress of a request never submitted is ENOENT, not 0 bytes.
TEST_F(CApi, LiveCopierAnswersAndUnknownRequestsAreNotFound) {
  AddDeviceFiles();
  cmb_copier* c = nullptr;
  const char* dsts[] = {"nvme2:1"};
  if (cmb_copier_open(sys, "nvme1:1", dsts, 1, nullptr, &c) != 0) GTEST_SKIP() << cmb_last_error();
  errno = 0;
  EXPECT_NE(cmb_copier_plan(c), nullptr);
  EXPECT_STREQ(cmb_copier_error(c), "");
  EXPECT_GE(cmb_copier_event_fd(c), 0);
  uint64_t bytes = 99;
  EXPECT_EQ(cmb_copier_progress_get(c, 12345, &bytes), -ENOENT);
  EXPECT_EQ(bytes, 99u);
  EXPECT_EQ(cmb_copier_progress_get(c, 12345, nullptr), -EINVAL);
  EXPECT_EQ(cmb_copier_progress(c, 12345), 0u);
  cmb_copier_close(c);
  EXPECT_EQ(errno, 0) << "no call on a live copier set errno";
}

// The errno of each status code (cmb.h's table), and the two rules around
// it: the kernel's EPERM and EACCES both come out as EACCES, and EBADF
// means a bad handle only (a kernel EBADF is FailedPrecondition).
TEST(CApiErrno, EachStatusCodeHasItsErrno) {
  using C = absl::StatusCode;
  const std::vector<std::pair<C, int>> table = {
      {C::kOk, 0},
      {C::kCancelled, -ECANCELED},
      {C::kUnknown, -EIO},
      {C::kInvalidArgument, -EINVAL},
      {C::kDeadlineExceeded, -ETIMEDOUT},
      {C::kNotFound, -ENOENT},
      {C::kAlreadyExists, -EEXIST},
      {C::kPermissionDenied, -EACCES},
      {C::kResourceExhausted, -ENOSPC},
      {C::kFailedPrecondition, -EOPNOTSUPP},
      {C::kAborted, -EIO},
      {C::kOutOfRange, -ERANGE},
      {C::kUnimplemented, -EOPNOTSUPP},
      {C::kInternal, -EIO},
      {C::kUnavailable, -EAGAIN},
      {C::kDataLoss, -EIO},
      {C::kUnauthenticated, -EIO},
  };
  using cmb::internal::NegErrnoOf;
  for (const auto& [code, err] : table) EXPECT_EQ(NegErrnoOf(code), err) << absl::StatusCodeToString(code);
  for (int e : {EPERM, EACCES}) EXPECT_EQ(NegErrnoOf(absl::ErrnoToStatus(e, "").code()), -EACCES) << e;
  EXPECT_NE(NegErrnoOf(absl::ErrnoToStatus(EBADF, "").code()), -EBADF);
}

// The table as a C caller meets it, through calls that fail in the library.
TEST_F(CApi, FailuresCarryTheirCodesErrno) {
  cmb_buffer* b = nullptr;
  EXPECT_EQ(cmb_p2p_alloc(sys, "nvme0", 128u << 20, &b), -ENOSPC) << cmb_last_error();  // ResourceExhausted
  EXPECT_TRUE(Mentions(cmb_last_error(), "are available")) << cmb_last_error();
  // A destination with a mounted file system is refused (FailedPrecondition).
  t.Write("/proc/self/mountinfo",
          "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 259:20 / /mnt/x rw - xfs /dev/nvme2n1 rw\n");
  cmb_system* mounted = nullptr;
  ASSERT_EQ(cmb_discover(&mounted), 0) << cmb_last_error();
  cmb_copier* c = nullptr;
  const char* dsts[] = {"nvme2:1"};
  EXPECT_EQ(cmb_copier_open(mounted, "nvme1:1", dsts, 1, nullptr, &c), -EOPNOTSUPP) << cmb_last_error();
  EXPECT_TRUE(Mentions(cmb_last_error(), "/dev/nvme2n1 is in use")) << cmb_last_error();
  EXPECT_EQ(c, nullptr);
  cmb_system_free(mounted);
}

// A CMB whose pool the kernel did not publish cannot be allocated from
// (FailedPrecondition): EOPNOTSUPP, no longer EPERM.
TEST(CApiErrno, UnpublishedPoolIsNotSupported) {
  cmbtest::FakeSysfs t;
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 64, .published = false, .cmbsz_flags = 0x3});
  ::setenv("CMB_SYSFS_ROOT", t.dir().c_str(), 1);
  cmb_system* sys = nullptr;
  ASSERT_EQ(cmb_discover(&sys), 0) << cmb_last_error();
  cmb_buffer* b = nullptr;
  EXPECT_EQ(cmb_p2p_alloc(sys, "nvme0", 4096, &b), -EOPNOTSUPP);
  EXPECT_TRUE(Mentions(cmb_last_error(), "not published")) << cmb_last_error();
  // The library's fix, in a C caller's words (no tool names).
  EXPECT_TRUE(Mentions(cmb_last_error(), "; look at the controller's CMBLOC and CMBSZ registers of 0000:00:04.0"))
      << cmb_last_error();
  cmb_system_free(sys);
  ::unsetenv("CMB_SYSFS_ROOT");
}

}  // namespace
