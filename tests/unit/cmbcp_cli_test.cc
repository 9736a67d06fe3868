// cmbcp's command line over fake trees: every usage error and refusal exits
// with its documented status before touching a device; --dry-run -o json
// shows the plan. The copies themselves run in tests/vm/cmbcp_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "fake_sysfs.h"
#include "run_command.h"

namespace {

struct Cli {
  cmbtest::FakeSysfs t;
  Cli() { t.AddSwitchTestbed(); }
  cmbtest::CommandResult Run(const std::string& args, const std::string& state_dir = "") {
    std::string env = state_dir.empty() ? "" : "CMB_STATE_DIR='" + state_dir + "' ";
    return cmbtest::RunCommand(env + "CMB_SYSFS_ROOT='" + t.dir() + "' " CMBCP_PATH " " + args);
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

// A fabrics namespace: refused with the transport's rule (exit 4) and the
// bounce fix; with --allow-bounce the plan bounces and says why.
TEST(CmbcpCli, FabricNamespaceNamesTheRule) {
  Cli c;
  c.t.AddFabricNvme("nvme3");
  c.t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  cmbtest::CommandResult r = c.Run("--count 8 nvme1:1 nvme3:1");
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("nvme3 is an NVMe/TCP controller"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--allow-bounce"), std::string::npos) << r.out;
  r = c.Run("--count 8 --allow-bounce --dry-run -o json nvme1:1 /dev/ng3n1 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json p = nlohmann::json::parse(r.out)["plan"];
  EXPECT_EQ(p["method"], "bounce");
  EXPECT_NE(p.dump().find("never take P2P memory"), std::string::npos) << p.dump();
  EXPECT_EQ(p["src"]["dma_client"], "0000:04:00.0");
  EXPECT_TRUE(p["dst"]["dma_client"].is_null());
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

// --stripe names every CMB in the plan: JSON's "stripe" and the text's plan line.
TEST(CmbcpCli, StripeNamesEveryCmbOfThePlan) {
  Cli c;
  cmbtest::CommandResult r = c.Run("--bytes 64M --stripe --dry-run -o json nvme1:1 nvme2:1 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json p = nlohmann::json::parse(r.out)["plan"];
  EXPECT_EQ(p["stripe"], nlohmann::json::array()) << "one CMB in the tree";
  // A second third-party CMB behind the switch joins.
  c.t.AddNvme(c.t.AddBridge("/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0", "0000:02:03.0", 6), "0000:06:00.0",
              "nvme3", {.cmb_mb = 64});
  r = c.Run("--bytes 64M --stripe --dry-run -o json nvme1:1 nvme2:1 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.out;
  p = nlohmann::json::parse(r.out)["plan"];
  EXPECT_EQ(p["provider"], "0000:03:00.0");
  EXPECT_EQ(p["stripe"], nlohmann::json::array({"0000:06:00.0"}));
  EXPECT_EQ(p["paths"].size(), 4u);
  r = c.Run("--bytes 64M --stripe --dry-run -v nvme1:1 nvme2:1 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("striped over the CMBs of 0000:03:00.0+0000:06:00.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stripe: chunks alternate over 2 CMBs"), std::string::npos) << r.out;
  // Without --stripe, one CMB.
  r = c.Run("--bytes 64M --dry-run -o json nvme1:1 nvme2:1 2>/dev/null");
  EXPECT_EQ(nlohmann::json::parse(r.out)["plan"]["stripe"], nlohmann::json::array());
}

// --resume offsets are checked against the plan before any device is opened
// (a fake tree has none: reaching one would end with another status).
TEST(CmbcpCli, ResumeBeyondTheRangeOrNotWholeLbasExits2) {
  Cli c;
  cmbtest::CommandResult r = c.Run("--count 8 --resume=8192 nvme1:1 nvme2:1");  // 8 LBAs of 512 bytes
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("cmbcp: --resume=8192 is beyond the 4096-byte range"), std::string::npos) << r.out;
  r = c.Run("--count 8 --resume=100 nvme1:1 nvme2:1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("cmbcp: --resume=100 is not a multiple of 512 bytes (both LBA sizes)"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("copied"), std::string::npos) << "no progress report: " << r.out;
  // With 512- and 4096-byte LBAs, the offset must suit both.
  cmbtest::FakeSysfs t;
  std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
  t.AddNvme(t.AddBridge(rp, "0000:01:00.0", 4), "0000:02:00.0", "nvme1");
  t.AddNvme(t.AddBridge(rp, "0000:01:01.0", 4), "0000:03:00.0", "nvme2", {.lba_size = 4096});
  r = cmbtest::RunCommand("CMB_SYSFS_ROOT='" + t.dir() + "' " CMBCP_PATH
                          " --method bounce --bytes 64K --resume=4608 nvme1:1 nvme2:1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--resume=4608 is not a multiple of 4096 bytes (both LBA sizes)"), std::string::npos) << r.out;
}

// --extents plans for the list: its bytes and lowest LBAs, not the whole
// devices; a list past a namespace's end is refused by the planner (exit 4)
// before any device is opened.
TEST(CmbcpCli, ExtentsPlanIsSizedForTheList) {
  Cli c;
  const std::string file = c.t.dir() + "/list.txt";
  std::ofstream(file) << "100 5000 8\n20 4000 16  # the lowest\n";
  cmbtest::CommandResult r = c.Run("--extents " + file + " --dry-run -o json nvme1:1 nvme2:1");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["extents"], 2);
  EXPECT_EQ(j["plan"]["bytes"], 24 * 512);
  EXPECT_EQ(j["plan"]["src"]["first_lba"], 20);
  EXPECT_EQ(j["plan"]["dst"]["first_lba"], 4000);
  EXPECT_EQ(j["plan"]["qd"], 2) << "one command per extent";
  r = c.Run("--extents " + file + " --dry-run nvme1:1 nvme2:1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("nvme1n1 -> nvme2n1, 2 extents from LBA 20 -> LBA 4000, 12288 bytes"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(the plan is sized for them)"), std::string::npos) << r.out;
  std::ofstream(file) << "0 0 8\n0 2097150 8\n";  // 1 GiB = 2097152 LBAs
  r = c.Run("--extents " + file + " nvme1:1 nvme2:1");
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("the extents' span nvme2n1 LBAs 0..2097157 is beyond the end of nvme2n1"), std::string::npos)
      << r.out;
}

// A journal whose offset does not fit the range is refused, not trusted. Its
// path comes from cmbcp's own message, as a user would see it.
TEST(CmbcpCli, JournalOutsideTheRangeIsRefusedWithExit2) {
  Cli c;
  std::string state = c.t.dir() + "/state";
  std::filesystem::create_directories(state);
  auto run = [&] { return c.Run("--count 8 --resume nvme1:1 nvme2:1", state); };
  cmbtest::CommandResult r = run();
  ASSERT_EQ(r.status, 2) << r.out;
  const std::string none = "no interrupted copy of this range is recorded (";
  size_t at = r.out.find(none);
  ASSERT_NE(at, std::string::npos) << r.out;
  std::string path = r.out.substr(at + none.size(), r.out.find(')', at) - at - none.size());
  auto write = [&](const std::string& key, uint64_t done) {
    std::ofstream(path) << nlohmann::json{{"copy", key}, {"bytes_done", done}}.dump();
  };
  // The journal names the copy by serial/NSID/first LBA of each side and the
  // bytes: an on-disk format, stable across versions so --resume keeps working.
  const std::string key = "serial-nvme1/1/0 -> serial-nvme2/1/0, 4096 bytes";
  write(key, 1 << 20);
  r = run();
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("the journal " + path + " records 1048576 bytes done, which is beyond the 4096-byte range"),
            std::string::npos) << r.out;
  write(key, 100);
  r = run();
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("records 100 bytes done, which is not a multiple of 512 bytes"), std::string::npos) << r.out;
}

}  // namespace
