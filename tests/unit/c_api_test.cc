// The C API (cmb/cmb.h) over a fake sysfs tree ($CMB_SYSFS_ROOT): what a C
// caller sees for good and bad calls (0 or -errno, and the message). The
// copies themselves run in the VM (tests/vm/c_example_test.sh, python_test.py).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <string>

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
};

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

TEST_F(CApi, BadCallsGetAnErrnoAndAMessage) {
  cmb_controller_info c{};
  EXPECT_EQ(cmb_controller_get(sys, 7, &c), -ERANGE);
  EXPECT_NE(std::string(cmb_last_error()).find("no controller 7"), std::string::npos) << cmb_last_error();
  cmb_namespace_info n{};
  EXPECT_EQ(cmb_namespace_find(sys, "nvme9:1", &n), -ENOENT);
  EXPECT_NE(std::string(cmb_last_error()).find("nvme9"), std::string::npos) << cmb_last_error();
  EXPECT_EQ(cmb_namespace_find(nullptr, "nvme1:1", &n), -EINVAL);
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
  opts.flags = CMB_COPIER_POLL << 1;  // a bit no version defines yet
  EXPECT_EQ(cmb_copier_open(sys, "nvme1:1", twice, 1, &opts, &cp), -EINVAL);
  EXPECT_NE(std::string(cmb_last_error()).find("unknown bits in opts->flags"), std::string::npos) << cmb_last_error();
  EXPECT_EQ(cp, nullptr) << "no handle on failure";
  cmb_buffer* b = nullptr;
  EXPECT_EQ(cmb_p2p_alloc(sys, "nvme1", 4096, &b), -ENOENT) << cmb_last_error();
  EXPECT_NE(std::string(cmb_last_error()).find("nvme1"), std::string::npos) << cmb_last_error();
}

// A pointer that is not a live handle of the right type is refused, not used.
TEST_F(CApi, ForeignPointersAreRefused) {
  alignas(64) unsigned char junk[256] = {};
  auto* fake_sys = reinterpret_cast<cmb_system*>(junk);
  EXPECT_EQ(cmb_controller_count(fake_sys), -EINVAL);
  cmb_buffer* host = nullptr;
  ASSERT_EQ(cmb_host_alloc(8192, &host), 0) << cmb_last_error();
  EXPECT_NE(cmb_buffer_data(host), nullptr);
  EXPECT_EQ(cmb_buffer_size(host), 8192u);
  // A buffer is not a queue, nor a system.
  EXPECT_EQ(cmb_queue_read(reinterpret_cast<cmb_queue*>(host), 0, host, 0, 512), -EINVAL);
  EXPECT_EQ(cmb_controller_count(reinterpret_cast<cmb_system*>(host)), -EINVAL);
  EXPECT_EQ(cmb_copier_submit(reinterpret_cast<cmb_copier*>(junk), nullptr, 0, nullptr), -EINVAL);
  cmb_buffer_free(reinterpret_cast<cmb_buffer*>(junk));  // ignored
  cmb_buffer_free(host);
  cmb_buffer_free(host);  // a second free is ignored, not a double free
  EXPECT_EQ(cmb_buffer_size(host), 0u) << "a freed handle is not read";
  cmb_buffer_free(nullptr);
}

}  // namespace
