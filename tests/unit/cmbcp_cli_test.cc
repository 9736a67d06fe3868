// cmbcp's command line over fake trees: every usage error and refusal exits
// with its documented status before touching a device; --dry-run -o json
// shows the plan. The copies themselves run in tests/vm/cmbcp_test.cc.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "fake_sysfs.h"
#include "run_command.h"

namespace {

struct Cli {
  cmbtest::FakeSysfs t;
  Cli() {
    std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
    std::string up = t.AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
    t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6), "0000:03:00.0", "nvme0", {.cmb_mb = 64});
    t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1");
    t.AddNvme(t.AddBridge(up, "0000:02:02.0", 6), "0000:05:00.0", "nvme2");
  }
  cmbtest::CommandResult Run(const std::string& args) {
    return cmbtest::RunCommand("CMB_SYSFS_ROOT='" + t.dir() + "' " CMBCP_PATH " " + args);
  }
};

TEST(CmbcpCli, UsageErrorsExit2) {
  Cli c;
  for (const char* args : {"", "nvme1:1", "nvme1:1 nvme2:1 nvme0:1", "--qd 0 nvme1:1 nvme2:1", "--qd x nvme1:1 nvme2:1",
                           "--bytes 1Q nvme1:1 nvme2:1", "--method fast nvme1:1 nvme2:1", "-o xml nvme1:1 nvme2:1",
                           "--bogus nvme1:1 nvme2:1", "--count", "-r 0000:04:00.0-1-0-8",
                           "-r 0000:04:00.0-1-0-8 -w 0000:05:00.0-1-0-8 nvme1:1 nvme2:1",
                           "-r 0000:04:00.0-1-0-8 -w 0000:05:00.0-1-0-8 --count 8", "--verify --verify-only nvme1:1 nvme2:1",
                           "--resume --dry-run nvme1:1 nvme2:1", "nvme1:1 nvme2:1",  // no --count/--bytes
                           "--count 8 --via 99 nvme1:1 nvme2:1", "--count 7 --chunk 1000 nvme1:1 nvme2:1"}) {
    cmbtest::CommandResult r = c.Run(args);
    EXPECT_EQ(r.status, 2) << "cmbcp " << args << "\n" << r.out;
    EXPECT_FALSE(r.out.empty()) << args;
  }
}

TEST(CmbcpCli, HelpNamesEveryExitStatus) {
  Cli c;
  cmbtest::CommandResult r = c.Run("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"0 copied", "1 I/O error", "2 usage error", "3 device not found", "4 refused",
                        "5 verify mismatch", "130 interrupted"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(CmbcpCli, UnknownDevicesExit3) {
  Cli c;
  cmbtest::CommandResult r = c.Run("--count 8 nvme1:1 /dev/ng7n1");
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_NE(r.out.find("no NVMe namespace /dev/ng7n1"), std::string::npos) << r.out;
  EXPECT_EQ(c.Run("--count 8 nvme1:1 nvme2:4").status, 3);
  EXPECT_EQ(c.Run("-r 0000:09:00.0-1-0-8 -w 0000:05:00.0-1-0-8").status, 3);
}

TEST(CmbcpCli, RefusalsExit4) {
  Cli c;
  cmbtest::CommandResult r = c.Run("--count 8 --dst-lba 2097150 nvme1:1 nvme2:1");  // 1 GiB = 2097152 LBAs
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("beyond the end"), std::string::npos) << r.out;
  r = c.Run("--count 8 --src-lba 0 --dst-lba 4 nvme1:1 nvme1:1");
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("overlap"), std::string::npos) << r.out;
  r = c.Run("--count 8 --via 0000:04:00.0 nvme1:1 nvme2:1");
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("no p2pmem pool"), std::string::npos) << r.out;
}

TEST(CmbcpCli, DryRunJsonShowsThePlan) {
  Cli c;
  cmbtest::CommandResult r = c.Run("--bytes 64M --dry-run -o json /dev/ng1n1 0000:05:00.0:1 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  const nlohmann::json& p = j["plan"];
  EXPECT_EQ(p["method"], "p2p");
  EXPECT_EQ(p["provider"], "0000:03:00.0");
  EXPECT_EQ(p["bytes"], 64u << 20);
  EXPECT_EQ(p["chunk"], 512u << 10);
  EXPECT_EQ(p["qd"], 16);
  EXPECT_EQ(p["src"]["controller"], "nvme1");
  EXPECT_EQ(p["dst"]["controller"], "nvme2");
  EXPECT_EQ(p["dst"]["lbas"], 131072);
  EXPECT_EQ(p["paths"].size(), 2u);
  EXPECT_FALSE(j.contains("copy"));
  // SPDK's form means the same.
  r = c.Run("-r 0000:04:00.0-1-0-131072 -w 0000:05:00.0-1-0-131072 -c 0000:03:00.0 --dry-run -o json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["plan"]["bytes"], 64u << 20);
}

}  // namespace
