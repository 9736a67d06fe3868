// cmbcp's report: the plan, the copy and the verify as JSON (schema:
// docs/json-schema.md) and as text lines; what both copy modes (a range,
// run.h; an extent list, extents.h) say alike is said here, once.
//
//   nlohmann::json out = {{"plan", cmbcp::PlanJson(*plan)}};
//   cmbcp::PrintPlan(*plan, /*verbose=*/true);
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "cmb/copy_engine.h"
#include "cmb/copy_plan.h"
#include "cmb/verify.h"

namespace cmbcp {

// The path JSON names an end by: "/dev/ng2n1" (its block device without a generic one).
std::string DeviceName(const cmb::CopyEnd& e);
nlohmann::json EndJson(const cmb::CopyEnd& e, uint64_t lbas);
nlohmann::json PlanJson(const cmb::CopyPlan& p);
nlohmann::json VerifyJson(const cmb::VerifyResult& v);
std::string DstNames(const cmb::CopyPlan& p);
// "0000:03:00.0", or "0000:03:00.0+0000:06:00.0" for a striped copy; "" without a CMB.
std::string Providers(const cmb::CopyPlan& p);
// "p2p through 0000:03:00.0+0000:06:00.0", "bounce": the method and every CMB it uses.
std::string MethodVia(const cmb::CopyPlan& p);
// The plan on stdout; `extents`: the number in a plan of extents (its
// ranges are the list's, not one range from src.lba and dst.lba).
void PrintPlan(const cmb::CopyPlan& p, bool verbose, size_t extents = 0);
double Rate(uint64_t bytes, double s);  // MB/s
// This process's CPU time between two getrusage(RUSAGE_SELF) calls, and per
// GiB of `bytes`: {"user_s", "sys_s", "per_gib_s"} (per_gib_s null for 0 bytes).
nlohmann::json CpuJson(const struct rusage& before, const struct rusage& after, uint64_t bytes);
// Like dd status=progress: "201326592 bytes (201 MB, 192 MiB) copied, 3 s, 67.1 MB/s".
std::string ProgressLine(uint64_t bytes, double s);
// Prints a copy's progress on stderr (a line that rewrites itself on a TTY):
// ProgressLine of the bytes after `resumed`, with " of TOTAL" when `of_total`.
std::function<void(const cmb::CopyProgress&)> ProgressPrinter(uint64_t resumed, bool of_total);

// What a copy's outcome says in both copy modes (a range, an extent list).
// "copied and flushed" or "written but NOT flushed (the flush failed)".
const char* Durability(bool flushed);
// The warnings after a copy on stderr: a destination not held exclusively,
// a page cache that readers may still see.
void WarnAfterCopy(const cmb::CopyPlan& plan, const cmb::CopyResult& r);
// The "copy" object's fields both modes have; `total`: the bytes the copy
// should reach (the range's, the list's).
nlohmann::json CopyJson(const cmb::CopyPlan& plan, const cmb::CopyResult& r, uint64_t total,
                        const struct rusage& before, const struct rusage& after);
// A destination's entry in "destinations" (its bytes_done counts from the range's start).
nlohmann::json DstJson(const cmb::CopyEnd& e, const cmb::CopyResult& r, size_t i, uint64_t total);
// The exit status of a copy that ran and did not complete.
int ExitAfterCopy(const cmb::CopyResult& r);

// `plan` with destination `e` alone: what VerifyCopy compares.
cmb::CopyPlan OneDestination(const cmb::CopyPlan& plan, const cmb::CopyEnd& e);
// A verify that could not run: says so on stderr ("verify nvme2n1[, where]:
// why"); the exit status.
int VerifyFailed(const cmb::CopyEnd& e, const std::string& where, const absl::Status& why,
                 const std::function<bool()>& stop);

}  // namespace cmbcp
