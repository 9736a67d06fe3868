// cmbcp's report: the plan, the copy and the verify as JSON (schema:
// docs/json-schema.md) and as text lines.
//
//   nlohmann::json out = {{"plan", cmbcp::PlanJson(*plan)}};
//   cmbcp::PrintPlan(*plan, /*verbose=*/true);
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cmb/copy_plan.h"
#include "cmb/verify.h"

namespace cmbcp {

nlohmann::json EndJson(const cmb::CopyEnd& e, uint64_t lbas);
nlohmann::json PlanJson(const cmb::CopyPlan& p);
nlohmann::json VerifyJson(const cmb::VerifyResult& v);
std::string DstNames(const cmb::CopyPlan& p);
// "0000:03:00.0", or "0000:03:00.0+0000:06:00.0" for a striped copy; "" without a CMB.
std::string Providers(const cmb::CopyPlan& p);
void PrintPlan(const cmb::CopyPlan& p, bool verbose);
double Rate(uint64_t bytes, double s);  // MB/s
// This process's CPU time between two getrusage(RUSAGE_SELF) calls, and per
// GiB of `bytes`: {"user_s", "sys_s", "per_gib_s"} (per_gib_s null for 0 bytes).
nlohmann::json CpuJson(const struct rusage& before, const struct rusage& after, uint64_t bytes);
// Like dd status=progress: "201326592 bytes (201 MB, 192 MiB) copied, 3 s, 67.1 MB/s".
std::string ProgressLine(uint64_t bytes, double s);

}  // namespace cmbcp
