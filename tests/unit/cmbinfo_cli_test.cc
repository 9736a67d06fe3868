// cmbinfo end to end over fake trees: exit codes, text and the JSON schema.
#include <gtest/gtest.h>

#include <tuple>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "fake_sysfs.h"
#include "run_command.h"

namespace {

using CliRun = cmbtest::CommandResult;

CliRun Cmbinfo(const std::string& root, const std::string& args) {
  return cmbtest::RunCommand("CMB_SYSFS_ROOT='" + root + "' " CMBINFO_PATH " " + args);
}

// A root port, a switch, and below it nvme0 (with a 64 MiB CMB) and nvme1.
void AddSwitchPair(cmbtest::FakeSysfs& t) { t.AddSwitchTestbed(1); }

TEST(CmbinfoCli, NoNvmeSaysSoWithDistinctExitCode) {
  cmbtest::FakeSysfs t;
  CliRun r = Cmbinfo(t.dir(), "");
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("No NVMe controller found"), std::string::npos) << r.out;
  CliRun j = Cmbinfo(t.dir(), "-o json");
  EXPECT_EQ(j.status, 3);
  EXPECT_TRUE(nlohmann::json::parse(j.out)["controllers"].empty());
}

// A fabrics controller: its connection in "fabric", the verdict for its
// namespaces, one "fabric_p2p" entry per CMB, and the same in text.
TEST(CmbinfoCli, FabricControllerInJsonAndText) {
  cmbtest::FakeSysfs t;
  AddSwitchPair(t);
  t.AddFabricNvme("nvme2");
  t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  CliRun r = Cmbinfo(t.dir(), "-o json");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["controllers"][0]["fabric"].is_null());
  const nlohmann::json& c = j["controllers"][2];
  EXPECT_EQ(c["transport"], "tcp");
  EXPECT_TRUE(c["address"].is_null());
  const nlohmann::json& f = c["fabric"];
  EXPECT_EQ(f["traddr"], "10.0.0.2");
  EXPECT_EQ(f["trsvcid"], "4420");
  EXPECT_EQ(f["src_addr"], "10.0.0.1");
  EXPECT_TRUE(f["host_traddr"].is_null());
  EXPECT_EQ(f["subsysnqn"], "nqn.2014-08.org.nvmexpress:cmb-test");
  EXPECT_EQ(f["state"], "live");
  EXPECT_EQ(f["ctrl_loss_tmo_s"], 600);
  EXPECT_EQ(f["reconnects_forever"], false);
  EXPECT_EQ(f["reconnect_delay_s"], 10);
  EXPECT_TRUE(f["rnic"].is_null());
  EXPECT_EQ(f["p2p"]["eligible"], false);
  EXPECT_NE(f["p2p"]["reason"].get<std::string>().find("NVMe/TCP"), std::string::npos);
  EXPECT_EQ(c["namespaces"][0]["generic_device"], "/dev/ng2n1");
  ASSERT_EQ(j["fabric_p2p"].size(), 1u);
  const nlohmann::json& p = j["fabric_p2p"][0];
  EXPECT_EQ(p["provider_name"], "nvme0");
  EXPECT_EQ(p["client_name"], "nvme2");
  EXPECT_EQ(p["transport"], "tcp");
  EXPECT_EQ(p["allowed"], false);
  EXPECT_TRUE(p["verdict"].is_null());
  for (const nlohmann::json& path : j["p2p"]) EXPECT_NE(path["client_name"], "nvme2");  // PCIe pairs only
  CliRun text = Cmbinfo(t.dir(), "");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("fabric  nqn.2014-08.org.nvmexpress:cmb-test  10.0.0.2:4420  from 10.0.0.1  state live, "
                          "ctrl_loss_tmo 600 s"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("nvme2  tcp   no nvme2 is an NVMe/TCP controller"), std::string::npos) << text.out;
}

TEST(CmbinfoCli, JsonSchemaOnSwitchTree) {
  cmbtest::FakeSysfs t;
  AddSwitchPair(t);
  CliRun r = Cmbinfo(t.dir(), "-o json");
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["controllers"].size(), 2u);
  const nlohmann::json& c0 = j["controllers"][0];
  EXPECT_EQ(c0["name"], "nvme0");
  EXPECT_EQ(c0["address"], "0000:03:00.0");
  EXPECT_EQ(c0["model"], "QEMU NVMe Ctrl");
  EXPECT_EQ(c0["serial"], "serial-nvme0");
  EXPECT_EQ(c0["cmb"]["size_bytes"], 64ull << 20);
  EXPECT_EQ(c0["cmb"]["offset_bytes"], 0);
  EXPECT_EQ(c0["cmb"]["bir"], 2);
  for (const char* k : {"sqs", "cqs", "lists", "rds", "wds"}) EXPECT_EQ(c0["cmb"][k], true) << k;
  EXPECT_EQ(c0["p2pmem"]["published"], true);
  EXPECT_EQ(c0["p2pmem"]["size_bytes"], 64ull << 20);
  EXPECT_TRUE(c0["p2pmem"]["available_bytes"].is_number());
  const nlohmann::json& ns = c0["namespaces"][0];
  EXPECT_EQ(ns["nsid"], 1);
  EXPECT_EQ(ns["generic_device"], "/dev/ng0n1");
  EXPECT_EQ(ns["block_device"], "/dev/nvme0n1");
  EXPECT_EQ(ns["lba_size"], 512);
  EXPECT_EQ(ns["capacity_blocks"], 2097152);
  EXPECT_EQ(ns["max_transfer_bytes"], 524288);
  EXPECT_TRUE(j["controllers"][1]["cmb"].is_null());
  EXPECT_TRUE(j["controllers"][1]["p2pmem"].is_null());
  ASSERT_EQ(j["p2p"].size(), 2u);  // provider nvme0 x clients nvme0, nvme1
  EXPECT_EQ(j["p2p"][1]["provider"], "0000:03:00.0");
  EXPECT_EQ(j["p2p"][1]["client"], "0000:04:00.0");
  EXPECT_EQ(j["p2p"][1]["verdict"], "switch");
  EXPECT_EQ(j["p2p"][1]["distance"], 4);
  EXPECT_TRUE(j["p2p"][1]["reason"].is_string());
  EXPECT_EQ(j["kernel"]["p2pdma"], "yes");
}

TEST(CmbinfoCli, NamesTheKernelRulesItApplied) {
  for (auto [release, rules, errno_name] : {std::tuple{"6.12.117", "6.12", "EREMOTEIO"},
                                            {"7.3.4+deb13-amd64", "7.3", "EINVAL"},
                                            {"7.9.0-future", "7.3", "EINVAL"}}) {
    cmbtest::FakeSysfs t;
    AddSwitchPair(t);
    t.SetKernel(release, std::nullopt);
    CliRun r = Cmbinfo(t.dir(), "-o json");
    ASSERT_EQ(r.status, 0) << r.out;
    nlohmann::json k = nlohmann::json::parse(r.out)["kernel"];
    EXPECT_EQ(k["release"], release);
    EXPECT_EQ(k["rules_version"], rules) << release;
    EXPECT_EQ(k["rules"]["unreachable_errno"], errno_name) << release;
    EXPECT_EQ(k["rules"]["newer_than_known"], std::string(release) == "7.9.0-future");
    CliRun text = Cmbinfo(t.dir(), "");
    EXPECT_NE(text.out.find(std::string("rules of Linux ") + rules + " (kernel " + release + ")"), std::string::npos)
        << text.out;
  }
}

// A CMB whose registers show but whose size is off the 2 MiB grid: cmbinfo
// says why it has no pool, in text and JSON, instead of a bare "none".
TEST(CmbinfoCli, SaysAMisalignedCmbIsPresentButNotPublished) {
  cmbtest::FakeSysfs t;
  t.SetKernel("7.3.4+deb13-amd64", "CONFIG_PCI_P2PDMA=y\n");
  t.AddNvme(t.HostBridge(), "0000:00:04.0", "nvme0", {.cmb_mb = 3, .pool = false, .cmb_bar_bytes = 4u << 20});
  CliRun r = Cmbinfo(t.dir(), "");
  EXPECT_NE(r.out.find("p2pmem   none: registers present, not published: misaligned ("), std::string::npos)
      << r.out;
  CliRun j = Cmbinfo(t.dir(), "-o json");
  nlohmann::json doc = nlohmann::json::parse(j.out);
  const nlohmann::json& c = doc["controllers"][0];
  EXPECT_TRUE(c["p2pmem"].is_null());
  ASSERT_TRUE(c["p2pmem_note"].is_string());
  EXPECT_EQ(c["p2pmem_note"].get<std::string>().rfind("registers present, not published: misaligned", 0), 0u);
  EXPECT_EQ(doc["kernel"]["rules"]["cmb_alignment_check"], "yes");
  EXPECT_EQ(doc["kernel"]["rules"]["poolless_providers"], true);
  EXPECT_EQ(doc["kernel"]["rules"]["non_mappable_bars_refused"], true);
}

// The pair of a CMB's controller with itself says what its own CMB takes on
// the tree's kernel (own_cmb.h); other pairs have no own_cmb.
TEST(CmbinfoCli, PredictsWhatAControllersOwnCmbTakes) {
  for (auto [release, outcome, limit] : {std::tuple{"6.12.117", "full", 0}, {"7.3.4+deb13-amd64", "page", 4096},
                                         {"6.15.2", "probe", 0}}) {
    cmbtest::FakeSysfs t;
    AddSwitchPair(t);
    t.SetKernel(release, std::nullopt);
    CliRun r = Cmbinfo(t.dir(), "-o json");
    ASSERT_EQ(r.status, 0) << r.out;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["kernel"]["rules"]["multi_page_p2p"],
              std::string(outcome) == "full" ? "in_command" : std::string(outcome) == "page" ? "host_list" : "unknown");
    int own = 0;
    for (const nlohmann::json& e : j["p2p"]) {
      if (e["provider"] != e["client"]) {
        EXPECT_TRUE(e["own_cmb"].is_null()) << e.dump();
        continue;
      }
      ++own;
      EXPECT_EQ(e["own_cmb"]["outcome"], outcome) << release << ": " << e.dump();
      EXPECT_EQ(e["own_cmb"]["command_bytes_limit"], limit) << release;
    }
    EXPECT_EQ(own, 1) << r.out;
    CliRun text = Cmbinfo(t.dir(), "");
    EXPECT_NE(text.out.find("own CMB: "), std::string::npos) << text.out;
  }
}

// -v prints the fio command that measures P2P reads into each CMB, with a
// client the kernel lets reach it (not the owner while another exists).
TEST(CmbinfoCli, VerbosePrintsTheFioRecipePerCmb) {
  cmbtest::FakeSysfs t;
  AddSwitchPair(t);
  t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  CliRun v = Cmbinfo(t.dir(), "-v");
  ASSERT_EQ(v.status, 0) << v.out;
  size_t at = v.out.find("  fio --name=p2p-read --filename=/dev/ng");
  ASSERT_NE(at, std::string::npos) << v.out;
  std::string line = v.out.substr(at, v.out.find('\n', at) - at);
  EXPECT_NE(line.find("--ioengine=io_uring_cmd --cmd_type=nvme --rw=read --bs=128k --iodepth=8"), std::string::npos)
      << line;
  EXPECT_NE(line.find("--iomem=mmapshared:/sys/bus/pci/devices/"), std::string::npos) << line;
  EXPECT_EQ(line.find("--rw=write"), std::string::npos) << "the recipe only reads";
  CliRun plain = Cmbinfo(t.dir(), "");
  EXPECT_EQ(plain.out.find("fio --name"), std::string::npos) << "only with -v";
}

TEST(CmbinfoCli, TextShowsVerdictAndFixAndTopology) {
  cmbtest::FakeSysfs t;
  std::string hb = t.HostBridge();
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.0"), "0000:01:00.0", "nvme0", {.cmb_mb = 64});
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.1"), "0000:02:00.0", "nvme1");
  CliRun r = Cmbinfo(t.dir(), "-v --topology");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("CMB      64 MiB at offset 0 B of BAR2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CMBSZ  0x0004021f"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unsupported"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix: put the provider and the client behind one PCIe switch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("`- 0000:00:1c.1"), std::string::npos) << r.out;
}

TEST(CmbinfoCli, UsageErrors) {
  cmbtest::FakeSysfs t;
  EXPECT_EQ(Cmbinfo(t.dir(), "-o yaml").status, 2);
  EXPECT_EQ(Cmbinfo(t.dir(), "--bogus").status, 2);
  EXPECT_EQ(Cmbinfo(t.dir(), "extra").status, 2);
  CliRun h = Cmbinfo(t.dir(), "--help");
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("Usage: cmbinfo"), std::string::npos);
}

// --udev: the properties udev imports; a client on another root port is refused.
TEST(CmbinfoCli, UdevPropertiesListClientsByVerdict) {
  cmbtest::FakeSysfs t;
  AddSwitchPair(t);
  t.AddNvme(t.AddBridge(t.HostBridge(), "0000:00:1d.0", 4), "0000:05:00.0", "nvme2");
  t.Write("/devices", "");  // an empty list: nothing granted
  const std::string devices = " --devices " + t.dir() + "/devices";
  CliRun r = Cmbinfo(t.dir(), "--root " + t.dir() + " --udev 0000:03:00.0" + devices);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out,
            "CMB_NVME=nvme0\nCMB_SIZE=67108864\nCMB_P2PMEM=published\nCMB_P2PMEM_SIZE=67108864\n"
            "CMB_P2PMEM_ALLOCATE=1\nCMB_P2P_CLIENTS=0000:04:00.0\nCMB_P2P_REFUSED=0000:05:00.0\nCMB_P2P_UNKNOWN=\n"
            "CMB_GRANT=no\nCMB_GRANT_WHY=neither nvme0 nor a namespace of it is listed in " + t.dir() + "/devices\n");
  CliRun none = Cmbinfo(t.dir(), "--root " + t.dir() + " --udev 0000:04:00.0" + devices);
  ASSERT_EQ(none.status, 0) << none.out;
  EXPECT_EQ(none.out, "CMB_NVME=nvme1\nCMB_P2PMEM=none\nCMB_GRANT=no\nCMB_GRANT_WHY=nvme1 has no p2pmem pool\n");
  // Under udev the environment is the device's properties: CMB_SYSFS_ROOT
  // does not move the tree, only --root does (this machine has no NVMe).
  CliRun env = Cmbinfo(t.dir(), "--udev 0000:03:00.0" + devices);
  EXPECT_EQ(env.status, 3) << env.out;
  CliRun missing = Cmbinfo(t.dir(), "--root " + t.dir() + " --udev 0000:09:00.0" + devices);
  EXPECT_EQ(missing.status, 3);
  EXPECT_NE(missing.out.find("no NVMe controller there"), std::string::npos) << missing.out;
  CliRun bad = Cmbinfo(t.dir(), "--root " + t.dir() + " --udev nosuch" + devices);
  EXPECT_EQ(bad.status, 3);
  EXPECT_NE(bad.out.find("no NVMe controller, namespace generic device or PCI address"), std::string::npos)
      << bad.out;
}

// The grant for a generic device and for its controller's CMB, by the list.
TEST(CmbinfoCli, UdevGrantsOnlyListedNamespacesNotInUse) {
  cmbtest::FakeSysfs t;
  t.AddSwitchTestbed(2);
  t.Write("/devices", "# test\nserial=serial-nvme1\npci=0000:05:00.0\nnvme0n1\n");
  t.Write("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 259:20 / /srv rw - ext4 /dev/nvme2n1 rw\n");
  const std::string devices = " --devices " + t.dir() + "/devices";
  CliRun ng1 = Cmbinfo(t.dir(), "--root " + t.dir() + " --udev ng1n1" + devices);
  ASSERT_EQ(ng1.status, 0) << ng1.out;
  EXPECT_EQ(ng1.out, "CMB_NVME=nvme1\nCMB_NAMESPACE=nvme1n1\nCMB_GRANT=yes\nCMB_GRANT_WHY=listed as "
                     "serial=serial-nvme1 (" + t.dir() + "/devices line 2)\n");
  CliRun ng2 = Cmbinfo(t.dir(), "--root " + t.dir() + " --udev ng2n1" + devices);
  EXPECT_NE(ng2.out.find("CMB_GRANT=no\nCMB_GRANT_WHY=in use (mounted on /srv), though listed as pci=0000:05:00.0"),
            std::string::npos) << ng2.out;
  // The CMB's controller is not listed (the kernel name on line 4 is refused).
  CliRun ng0 = Cmbinfo(t.dir(), "--root " + t.dir() + " --udev ng0n1" + devices);
  EXPECT_NE(ng0.out.find("CMB_GRANT=no\nCMB_GRANT_WHY=not listed in"), std::string::npos) << ng0.out;
  EXPECT_NE(ng0.out.find("CMB_PCI=0000:03:00.0\nCMB_P2PMEM_GRANT=no\n"), std::string::npos) << ng0.out;
  CliRun c0 = Cmbinfo(t.dir(), "--root " + t.dir() + " --udev nvme0" + devices);
  EXPECT_EQ(c0.out.substr(0, c0.out.find("_WHY")), "CMB_NVME=nvme0\nCMB_PCI=0000:03:00.0\nCMB_P2PMEM_GRANT=no\nCMB_P2PMEM_GRANT");
  // Text and JSON say the same, and carry the list's warning.
  CliRun text = Cmbinfo(t.dir(), devices.substr(1));
  EXPECT_NE(text.out.find("group cmb: yes: listed as serial=serial-nvme1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("devices:4: 'nvme0n1' names a device by its kernel name"), std::string::npos) << text.out;
  nlohmann::json j = nlohmann::json::parse(Cmbinfo(t.dir(), "-o json" + devices).out);
  EXPECT_EQ(j["access"]["group"], "cmb");
  EXPECT_EQ(j["access"]["entries"].size(), 2u);
  EXPECT_EQ(j["access"]["warnings"].size(), 1u);
  for (const nlohmann::json& c : j["controllers"]) {
    bool want = c["name"] == "nvme1";
    EXPECT_EQ(c["namespaces"][0]["group_access"]["granted"], want) << c["name"];
    EXPECT_FALSE(c["namespaces"][0]["group_access"]["reason"].get<std::string>().empty());
  }
  EXPECT_EQ(j["controllers"][0]["p2pmem"]["group_access"]["granted"], false);
}

}  // namespace

namespace {

// --probe where the kernel lets no pair reach the CMB (a root complex; no
// p2pmem/allocate for the owner): nothing is read, exit 0, and it says why.
TEST(CmbinfoCli, ProbeWithNoAllowedPairReadsNothingAndSaysWhy) {
  cmbtest::FakeSysfs t;
  std::string hb = t.HostBridge();
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.0"), "0000:01:00.0", "nvme0", {.cmb_mb = 64, .allocate = false});
  t.AddNvme(t.AddBridge(hb, "0000:00:1c.1"), "0000:02:00.0", "nvme1");
  CliRun r = Cmbinfo(t.dir(), "--probe");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Nothing was read: the kernel allows P2P DMA for none of these pairs"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("nvme0 CMB <- nvme1n1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not read: the verdict is unsupported"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Not proven: the write direction"), std::string::npos) << r.out;
  CliRun j = Cmbinfo(t.dir(), "--probe -o json");
  ASSERT_EQ(j.status, 0) << j.out;
  nlohmann::json probe = nlohmann::json::parse(j.out)["probe"];
  EXPECT_EQ(probe["bytes"], 4 << 20);
  ASSERT_EQ(probe["pairs"].size(), 2u);
  for (const nlohmann::json& p : probe["pairs"]) {
    EXPECT_EQ(p["tried"], false) << p.dump();
    EXPECT_TRUE(p["match"].is_null()) << p.dump();
    EXPECT_TRUE(p["skipped"].is_string()) << p.dump();
    for (const char* k : {"provider", "client", "namespace", "bytes", "p2p_mb_s", "host_mb_s", "error"})
      EXPECT_TRUE(p.contains(k)) << k;
  }
}

// A pair that is tried but cannot be read (no device node in a fake tree)
// is an error: exit 1, with the cause in the pair's error.
TEST(CmbinfoCli, ProbeThatCannotReadExitsOneWithTheCause) {
  cmbtest::FakeSysfs t;
  AddSwitchPair(t);
  t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  CliRun j = Cmbinfo(t.dir(), "--probe --bytes 64K -o json");
  EXPECT_EQ(j.status, 1) << j.out;
  nlohmann::json probe = nlohmann::json::parse(j.out)["probe"];
  EXPECT_EQ(probe["bytes"], 65536);
  EXPECT_EQ(probe["exit"], 1);
  ASSERT_FALSE(probe["pairs"].empty());
  for (const nlohmann::json& p : probe["pairs"]) {
    EXPECT_EQ(p["tried"], true) << p.dump();
    EXPECT_EQ(p["bytes"], 65536) << p.dump();
    EXPECT_TRUE(p["error"].is_string()) << p.dump();
  }
}

TEST(CmbinfoCli, ProbeOptionsThatDoNotFitAreUsageErrors) {
  cmbtest::FakeSysfs t;
  AddSwitchPair(t);
  for (const char* args : {"--bytes 1M", "--path block", "--probe --bytes 0", "--probe --bytes lots",
                           "--probe --path nowhere", "--report -o json", "--probe -o dot"}) {
    CliRun r = Cmbinfo(t.dir(), args);
    EXPECT_EQ(r.status, 2) << args << ": " << r.out;
    EXPECT_NE(r.out.find("cmbinfo: "), std::string::npos) << args << ": " << r.out;
  }
}

// --report is shareable: model, PCI names, CMB and verdicts, but no serial
// number or namespace identity.
TEST(CmbinfoCli, ReportLeavesOutSerialsAndNamespaceIds) {
  cmbtest::FakeSysfs t;
  AddSwitchPair(t);
  t.SetKernel("7.3.4+deb13-amd64", std::nullopt);
  CliRun r = Cmbinfo(t.dir(), "--report");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("serial-nvme"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("eui."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kernel 7.3.4+deb13-amd64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("QEMU NVMe Ctrl"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CMB: 64 MiB in BAR2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("- nvme0 -> nvme1: switch, distance 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(no read proof: add --probe)"), std::string::npos) << r.out;
}

}  // namespace
