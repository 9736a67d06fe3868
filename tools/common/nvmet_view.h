// The nvmet view for the tools: the kernel's NVMe-oF target as configfs shows
// it, with each namespace's p2pmem predictions (cmb/nvmet.h), as JSON
// (docs/json-schema.md, "nvmet") and text.
//
//   absl::StatusOr<cmb::NvmetConfig> t = cmb::ReadNvmetConfig(root);
//   j["nvmet"] = cmbtools::NvmetJson(root, sys, *t);
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "cmb/discovery.h"
#include "cmb/nvmet.h"

namespace cmbtools {

// {"present", "ports": [...], "subsystems": [...], "namespaces": [...]}.
nlohmann::json NvmetJson(const cmb::SysRoot& root, const cmb::System& sys, const cmb::NvmetConfig& config);
// Nothing when nvmet is not present.
void PrintNvmet(std::ostream& out, const cmb::SysRoot& root, const cmb::System& sys, const cmb::NvmetConfig& config);

}  // namespace cmbtools
