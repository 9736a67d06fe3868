// cmbtarget save, restore and show: the nvmet configuration as JSON and back.
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cmb/discovery.h"
#include "cmb/nvmet.h"
#include "cmb/nvmet_setup.h"
#include "fix_words.h"
#include "nvmet_view.h"
#include "report.h"

namespace cmbtarget {
namespace {

constexpr int kFormat = 1;

nlohmann::json ToSaved(const cmb::NvmetConfig& c) {
  nlohmann::json ports = nlohmann::json::array(), subsystems = nlohmann::json::array();
  for (const cmb::NvmetPort& p : c.ports)
    ports.push_back({{"id", p.id}, {"trtype", p.trtype}, {"adrfam", p.adrfam}, {"traddr", p.traddr},
                     {"trsvcid", p.trsvcid}, {"subsystems", p.subsystems}});
  for (const cmb::NvmetSubsystem& s : c.subsystems) {
    nlohmann::json ns = nlohmann::json::array();
    for (const cmb::NvmetNamespace& n : s.namespaces)
      ns.push_back({{"nsid", n.nsid}, {"device_path", n.device_path}, {"enabled", n.enabled},
                    {"p2pmem", n.p2pmem_raw ? nlohmann::json(*n.p2pmem_raw) : nlohmann::json()}});
    subsystems.push_back({{"nqn", s.nqn}, {"allow_any_host", s.allow_any_host},
                          {"allowed_hosts", s.allowed_hosts}, {"namespaces", ns}});
  }
  return {{"cmbtarget_format", kFormat}, {"ports", ports}, {"subsystems", subsystems}};
}

// The saved configuration; InvalidArgument naming what is wrong.
absl::StatusOr<cmb::NvmetConfig> FromSaved(const nlohmann::json& j) {
  try {
    if (j.at("cmbtarget_format").get<int>() != kFormat)
      return absl::InvalidArgumentError(absl::StrCat("saved with format ", j.at("cmbtarget_format").dump(),
                                                     ", this cmbtarget reads ", kFormat));
    cmb::NvmetConfig c{.present = true};
    for (const nlohmann::json& p : j.at("ports"))
      c.ports.push_back({.id = p.at("id"), .trtype = p.at("trtype"), .adrfam = p.at("adrfam"),
                         .traddr = p.at("traddr"), .trsvcid = p.at("trsvcid"),
                         .subsystems = p.at("subsystems").get<std::vector<std::string>>()});
    for (const nlohmann::json& s : j.at("subsystems")) {
      cmb::NvmetSubsystem sub{.nqn = s.at("nqn"), .allow_any_host = s.at("allow_any_host"),
                              .allowed_hosts = s.at("allowed_hosts").get<std::vector<std::string>>()};
      for (const nlohmann::json& n : s.at("namespaces")) {
        cmb::NvmetNamespace ns{.subsystem = sub.nqn, .nsid = n.at("nsid"), .device_path = n.at("device_path"),
                               .enabled = n.at("enabled")};
        if (!n.at("p2pmem").is_null()) ns.p2pmem_raw = n.at("p2pmem").get<std::string>();
        sub.namespaces.push_back(std::move(ns));
      }
      c.subsystems.push_back(std::move(sub));
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not a cmbtarget save file: ", e.what()));
  }
}

int Fail(const absl::Status& s, int code) {
  std::cerr << "cmbtarget: " << cmbtools::WithFixes(s) << "\n";
  return code;
}

int Restore(const std::string& file, const cmb::SysRoot& root) {
  std::ifstream in(file);
  if (!in) return Fail(absl::NotFoundError(absl::StrCat("cannot read ", file)), 3);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return Fail(absl::InvalidArgumentError(absl::StrCat(file, " is not JSON")), 2);
  absl::StatusOr<cmb::NvmetConfig> c = FromSaved(j);
  if (!c.ok()) return Fail(c.status(), 2);
  absl::Status s = cmb::RestoreNvmetConfig(root, *c);
  if (!s.ok()) return Fail(s, s.code() == absl::StatusCode::kAlreadyExists ? 4 : 1);
  std::cout << "restored " << c->subsystems.size() << " subsystem(s) and " << c->ports.size() << " port(s) from "
            << file << "\n";
  return 0;
}

}  // namespace

int SaveRestoreShow(const std::string& command, const std::vector<std::string>& args, const cmb::SysRoot& root,
                    bool json) {
  if (command == "restore") {
    if (args.size() != 1) return Fail(absl::InvalidArgumentError("restore: name one file"), 2);
    return Restore(args[0], root);
  }
  absl::StatusOr<cmb::NvmetConfig> c = cmb::ReadNvmetConfig(root);
  if (!c.ok()) return Fail(c.status(), 1);
  if (command == "show") {
    absl::StatusOr<cmb::System> sys = cmb::Discover(root);
    if (!sys.ok()) return Fail(sys.status(), 1);
    if (json) std::cout << cmbtools::Dump(cmbtools::NvmetJson(root, *sys, *c)) << "\n";
    else if (!c->present) std::cout << "The NVMe-oF target (nvmet) is not loaded, or configfs is not mounted.\n";
    else cmbtools::PrintNvmet(std::cout, root, *sys, *c);
    return 0;
  }
  if (args.size() != 1) return Fail(absl::InvalidArgumentError("save: name one file"), 2);
  if (!c->present) return Fail(absl::FailedPreconditionError("the NVMe-oF target (nvmet) is not loaded"), 4);
  std::ofstream out(args[0], std::ios::trunc);
  out << ToSaved(*c).dump(2) << "\n";
  if (!out.flush()) return Fail(absl::UnknownError(absl::StrCat("cannot write ", args[0])), 1);
  std::cout << "saved " << c->subsystems.size() << " subsystem(s) and " << c->ports.size() << " port(s) to " << args[0]
            << "\n";
  return 0;
}

}  // namespace cmbtarget
