// cmbcp --extents FILE: the extent list (cmb::ParseExtents) copied as one
// request (cmb::RunExtents, the library's drive loop, with progress and
// cancellation on a signal), then verified extent by extent, and reported
// per destination (text and JSON) in the words a range's copy uses
// (output.h). The plan is sized for the list (CopyRequest::extents).
//
//   absl::StatusOr<std::vector<cmb::Extent>> ext = cmbcp::LoadExtents(o.extents);
//   req.extents = *ext;  ...  plan = cmb::PlanFanOut(root, sys, req, dsts);
//   int rc = cmbcp::CopyExtentsAndReport(root, *plan, *ext, o, stop, out);
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmb/copy_plan.h"
#include "cmb/extent_list.h"
#include "options.h"

namespace cmbcp {

absl::StatusOr<std::vector<cmb::Extent>> LoadExtents(const std::string& path);  // "-": stdin
int CopyExtentsAndReport(const cmb::SysRoot& root, const cmb::CopyPlan& plan, const std::vector<cmb::Extent>& ext,
                         const Options& o, const std::function<bool()>& stop, nlohmann::json& out);
int VerifyExtentsAndReport(const cmb::CopyPlan& plan, const std::vector<cmb::Extent>& ext,
                           const std::function<bool()>& stop, bool json, nlohmann::json& out);

}  // namespace cmbcp
