// cmbcp's copy and verify steps: each runs through the library (cmb::RunCopy,
// cmb::VerifyCopy) and says what happened, per destination, on stderr and in
// the JSON report; each returns cmbcp's exit status.
//
//   int rc = cmbcp::CopyAndReport(root, *plan, o, stop, out);
//   if (rc == cmbcp::kExitOk && o.verify) rc = cmbcp::VerifyAndReport(*plan, stop, o.json, out);
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

#include "cmb/copy_plan.h"
#include "cmb/sysroot.h"
#include "options.h"

namespace cmbcp {

int CopyAndReport(const cmb::SysRoot& root, const cmb::CopyPlan& plan, const Options& o,
                  const std::function<bool()>& stop, nlohmann::json& out);
// Every destination of the plan, one after the other.
int VerifyAndReport(const cmb::CopyPlan& plan, const std::function<bool()>& stop, bool json, nlohmann::json& out);

}  // namespace cmbcp
