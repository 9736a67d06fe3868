// Presentation shared by the tools: human-readable sizes and the JSON shapes
// documented in docs/json-schema.md. The library returns plain structs; only
// the tools know about JSON.
//
//   nlohmann::json j = cmbtools::ToJson(system, paths);
//   std::cout << cmbtools::Dump(j);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmb/access_list.h"
#include "cmb/discovery.h"
#include "cmb/fabric_path.h"
#include "cmb/p2p_path.h"

namespace cmbtools {

std::string HumanBytes(uint64_t bytes);  // "64 MiB", "1.5 GiB", "512 B"

nlohmann::json ToJson(const cmb::Controller& c);
nlohmann::json ToJson(const cmb::P2pPath& p, const cmb::System& sys);
nlohmann::json ToJson(const cmb::System& sys, const std::vector<cmb::P2pPath>& paths);

// Adds to ToJson(sys, paths)'s object what `group` may use by `list`: an
// "access" object, and "group_access" {granted, reason} on every namespace
// and p2pmem pool.
void AddGroupAccess(nlohmann::json& j, const cmb::System& sys, const cmb::AccessList& list,
                    const std::string& group);

// Indented JSON text. Strings from sysfs (model, serial) are bytes, not
// always UTF-8: invalid sequences become U+FFFD instead of an exception
// (found by tests/fuzz/sysfs_fuzz).
std::string Dump(const nlohmann::json& j);

// Every (provider, client) pair: providers are controllers with published
// p2pmem, clients every PCIe controller. Errors become kUnknown entries.
std::vector<cmb::P2pPath> AllPaths(const cmb::SysRoot& root, const cmb::System& sys);

// Every (provider, fabric controller) pair: providers as above, clients the
// controllers without a PCI function (tcp, rdma, fc, loop).
std::vector<cmb::FabricPath> AllFabricPaths(const cmb::SysRoot& root, const cmb::System& sys);
// Adds "fabric_p2p", one entry per AllFabricPaths pair, to ToJson(sys, paths)'s object.
void AddFabricPaths(nlohmann::json& j, const cmb::System& sys, const std::vector<cmb::FabricPath>& paths);

}  // namespace cmbtools
