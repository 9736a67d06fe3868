// cmbinfo -o dot, parsed by Graphviz's own dot for every topology the unit
// tests build (switch, root ports, two host bridges, AMD Zen, unprivileged,
// odd sysfs strings, a fabrics controller, nothing at all), with and without
// a pci.ids in the tree. dot must accept the graph without a word on stderr,
// and its layout (-Tplain) must hold every controller, and one arrow per
// (CMB, client) pair of cmbinfo -o json, in its verdict's colour.
//
// CMB_DOT_KEEP=DIR keeps each graph as DIR/<topology>.dot (docs/img/ is
// drawn from "switch_and_root_port" with names).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "fake_sysfs.h"
#include "run_command.h"
#include "test_pci_ids.h"

namespace {

using cmbtest::FakeSysfs;

struct Topology {
  const char* name;
  std::function<void(FakeSysfs&)> build;
};

// A fabrics controller: no PCI function, so a node off the tree.
void AddFabrics(FakeSysfs& t) {
  std::string c = "/sys/devices/virtual/nvme-fabrics/ctl/nvme9";
  t.Write(c + "/transport", "tcp\n");
  t.Write(c + "/model", "Linux\n");
  t.Write(c + "/serial", "fabric\n");
  t.Link("/sys/class/nvme/nvme9", "../../devices/virtual/nvme-fabrics/ctl/nvme9");
}

std::vector<Topology> Topologies() {
  // n root ports of host bridge pci0000:00, one controller on each (the first with a CMB).
  auto root_ports = [](FakeSysfs& t, int n) {
    for (int i = 0; i < n; ++i)
      t.AddNvme(t.AddBridge(t.HostBridge(), absl::StrFormat("0000:00:1c.%d", i)), absl::StrFormat("0000:%02x:00.0", i + 1),
                absl::StrCat("nvme", i), {.cmb_mb = i == 0 ? 64u : 0u});
  };
  return {
      {"none", [](FakeSysfs&) {}},
      {"switch", [](FakeSysfs& t) { t.AddSwitchTestbed(2); }},
      {"root_ports", [&](FakeSysfs& t) { root_ports(t, 2); }},
      {"switch_and_root_port",
       [](FakeSysfs& t) {
         t.AddSwitchTestbed(2);
         t.AddNvme(t.AddBridge(t.HostBridge(), "0000:00:1d.0"), "0000:10:00.0", "nvme3");
       }},
      {"two_host_bridges_zen",
       [&](FakeSysfs& t) {
         t.SetCpu("AuthenticAMD", 0x19);
         root_ports(t, 1);
         t.AddNvme(t.AddBridge(t.HostBridge("pci0000:80", 0x8086, 0x0b25), "0000:80:1c.0"), "0000:81:00.0", "nvme5");
       }},
      {"unprivileged_acs_redirect",
       [](FakeSysfs& t) {
         std::string rp = t.AddBridge(t.HostBridge(), "0000:00:1c.0", 4);
         std::string up = t.AddBridge(rp, "0000:01:00.0", 5, std::nullopt);
         t.AddNvme(t.AddBridge(up, "0000:02:00.0", 6, uint16_t{0x1d}), "0000:03:00.0", "nvme0", {.cmb_mb = 64});
         t.AddNvme(t.AddBridge(up, "0000:02:01.0", 6), "0000:04:00.0", "nvme1", {.cmb_mb = 32, .published = false});
         t.AddNvme(t.AddBridge(up, "0000:02:02.0", 6), "0000:05:00.0", "nvme2", {.cmb_mb = 16, .cmb_attrs = false});
         t.TruncateConfigs();
       }},
      {"odd_strings_and_fabrics",
       [](FakeSysfs& t) {
         t.AddSwitchTestbed(1);
         t.Write("/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/0000:02:00.0/0000:03:00.0/nvme/nvme0/model",
                 "Q\"E\\MU {x} <b>\xff\xc3\x28 ;\tend\n");
         AddFabrics(t);
       }},
  };
}

struct Layout {
  std::set<std::string> nodes;
  std::map<std::string, std::string> p2p_colors;  // "cmb:<provider> -> <client>" -> colour
};

// dot -Tplain's lines: `node NAME x y w h LABEL ...` and `edge TAIL HEAD n
// x1 y1 ... [LABEL xl yl] STYLE COLOR`; names are quoted as they are here.
Layout ParsePlain(const std::string& plain) {
  Layout l;
  for (absl::string_view line : absl::StrSplit(plain, '\n')) {
    std::vector<std::string> w = absl::StrSplit(line, ' ', absl::SkipEmpty());
    auto unquote = [](std::string s) { return s.size() > 1 && s.front() == '"' ? s.substr(1, s.size() - 2) : s; };
    if (w.size() > 1 && w[0] == "node") l.nodes.insert(unquote(w[1]));
    if (w.size() > 3 && w[0] == "edge" && unquote(w[1]).rfind("cmb:", 0) == 0)
      l.p2p_colors[unquote(w[1]) + " -> " + unquote(w[2])] = w.back();
  }
  return l;
}

std::string VerdictColor(const std::string& verdict) {
  static const std::map<std::string, std::string> kColors = {
      {"switch", "#2e7d32"}, {"host_bridge", "#1565c0"}, {"unsupported", "#c62828"}, {"unknown", "#ef6c00"}};
  return kColors.at(verdict);
}

void CheckTopology(const Topology& topo, bool names) {
  SCOPED_TRACE(std::string(topo.name) + (names ? " with pci.ids" : " without pci.ids"));
  FakeSysfs t;
  topo.build(t);
  if (names) t.Write(cmbtest::kPciIdsPath, cmbtest::kPciIds);
  std::string env = "CMB_SYSFS_ROOT='" + t.dir() + "' " CMBINFO_PATH;
  std::string dot_file = t.dir() + "/graph.dot";
  cmbtest::CommandResult r = cmbtest::RunCommand(env + " -o dot 2>/dev/null >" + dot_file);
  ASSERT_EQ(r.status, std::string(topo.name) == "none" ? 3 : 0) << r.out;
  if (const char* keep = std::getenv("CMB_DOT_KEEP"); keep && names)
    std::filesystem::copy_file(dot_file, std::string(keep) + "/" + topo.name + ".dot",
                               std::filesystem::copy_options::overwrite_existing);
  // stderr alone first: any warning fails, as an error does.
  cmbtest::CommandResult warn = cmbtest::RunCommand(std::string(DOT_PATH " -Tsvg -o /dev/null ") + dot_file);
  ASSERT_EQ(warn.status, 0) << warn.out;
  EXPECT_EQ(warn.out, "") << "dot said something about " << dot_file;
  cmbtest::CommandResult plain = cmbtest::RunCommand(std::string(DOT_PATH " -Tplain ") + dot_file + " 2>/dev/null");
  ASSERT_EQ(plain.status, 0);
  Layout l = ParsePlain(plain.out);
  nlohmann::json j = nlohmann::json::parse(cmbtest::RunCommand(env + " -o json 2>/dev/null").out);
  for (const nlohmann::json& c : j["controllers"])
    EXPECT_TRUE(l.nodes.count(c["address"].is_null() ? c["name"].get<std::string>() : c["address"].get<std::string>()))
        << c["name"];
  EXPECT_EQ(l.p2p_colors.size(), j["p2p"].size());
  for (const nlohmann::json& p : j["p2p"]) {
    std::string key = "cmb:" + p["provider"].get<std::string>() + " -> " + p["client"].get<std::string>();
    ASSERT_TRUE(l.p2p_colors.count(key)) << key;
    EXPECT_EQ(l.p2p_colors[key], VerdictColor(p["verdict"])) << key;
  }
}

TEST(CmbinfoDot, DotParsesEveryTopology) {
  ASSERT_TRUE(std::filesystem::exists(DOT_PATH)) << "Graphviz's dot (" DOT_PATH ") is missing: scripts/deps.sh";
  for (const Topology& topo : Topologies())
    for (bool names : {false, true}) CheckTopology(topo, names);
}

// The graph names what pci.ids names, and shows hex IDs without it.
TEST(CmbinfoDot, NodesNamedFromTheTreesPciIds) {
  FakeSysfs t;
  t.AddSwitchTestbed(1);
  std::string env = "CMB_SYSFS_ROOT='" + t.dir() + "' " CMBINFO_PATH " -o dot";
  std::string bare = cmbtest::RunCommand(env).out;
  EXPECT_NE(bare.find("\\n104c:8232\\n"), std::string::npos) << bare;
  EXPECT_EQ(bare.find("Texas Instruments"), std::string::npos) << bare;
  t.Write(cmbtest::kPciIdsPath, cmbtest::kPciIds);
  std::string named = cmbtest::RunCommand(env).out;
  EXPECT_NE(named.find("Texas Instruments XIO3130 PCI Express Switch (Upstream) [104c:8232]"), std::string::npos);
  EXPECT_NE(named.find("Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller [8086:29c0]"), std::string::npos);
  EXPECT_NE(named.find("\"cmb:0000:03:00.0\" -> \"0000:04:00.0\" [label=\"switch (4)\""), std::string::npos) << named;
}

}  // namespace
