#include "fix_words.h"
#include "extents.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/planner.h"
#include "cmb/copy_engine.h"
#include "cmb/verify.h"
#include "output.h"

namespace cmbcp {
namespace {

// "extents 0..41 whole, 42 in part": where a prefix of the list's bytes ends.
std::string PrefixInExtents(const std::vector<cmb::Extent>& ext, uint32_t lba_size, uint64_t prefix) {
  size_t whole = 0;
  uint64_t at = 0;
  for (; whole < ext.size() && at + ext[whole].count * lba_size <= prefix; ++whole) at += ext[whole].count * lba_size;
  std::string s = whole ? absl::StrFormat("extents 0..%u whole", whole - 1) : "no extent whole";
  if (whole < ext.size() && prefix > at) absl::StrAppend(&s, absl::StrFormat(", extent %u in part", whole));
  return s;
}

// A list that did not complete everywhere: each destination's prefix of it.
void SayEachDestination(const cmb::CopyPlan& plan, const cmb::CopyResult& r, const std::vector<cmb::Extent>& ext) {
  if (!r.status.ok()) std::fprintf(stderr, "cmbcp: %s\n", cmbtools::WithFixes(r.status).c_str());
  for (size_t i = 0; i < r.dsts.size(); ++i) {
    const cmb::DstCompletion& d = r.dsts[i];
    if (d.status.ok() && d.prefix_bytes == plan.bytes) continue;
    if (!d.status.ok() && d.status != r.status)  // its own cause; the first one is said above
      std::fprintf(stderr, "cmbcp: %s\n", cmbtools::WithFixes(d.status).c_str());
    std::fprintf(stderr, "cmbcp: %s: %s: the first %llu of %llu bytes of the list are %s (%s)\n",
                 r.stopped ? "interrupted" : "failed", plan.destinations()[i]->ns.name.c_str(),
                 static_cast<unsigned long long>(d.prefix_bytes), static_cast<unsigned long long>(plan.bytes),
                 Durability(d.flushed), PrefixInExtents(ext, plan.src.ns.lba_size, d.prefix_bytes).c_str());
  }
}

}  // namespace

absl::StatusOr<std::vector<cmb::Extent>> LoadExtents(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream f(path);
    if (!f) return absl::NotFoundError(absl::StrCat("--extents ", path, ": cannot open it"));
    text << f.rdbuf();
  }
  absl::StatusOr<std::vector<cmb::Extent>> e = cmb::ParseExtents(text.str());
  if (!e.ok()) return absl::InvalidArgumentError(absl::StrCat("--extents ", path, ": ", e.status().message()));
  if (e->empty()) return absl::InvalidArgumentError(absl::StrCat("--extents ", path, ": no extent in it"));
  return e;
}

// The plan is sized for the list (CopyRequest::extents): plan.bytes is its bytes.
int CopyExtentsAndReport(const cmb::SysRoot& root, const cmb::CopyPlan& plan, const std::vector<cmb::Extent>& ext,
                         const Options& o, const std::function<bool()>& stop, nlohmann::json& out) {
  const bool progress = o.progress < 0 ? isatty(STDERR_FILENO) : o.progress == 1;
  cmb::CopyControl ctl;
  ctl.stop = stop;
  ctl.copier = CopierOptionsOf(o);
  if (o.verbose && !o.json) PrintPlan(plan, true, ext.size());
  if (progress) ctl.progress = ProgressPrinter(0, true);
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  cmb::CopyResult r = cmb::RunExtents(root, plan, ext, ctl);
  getrusage(RUSAGE_SELF, &after);
  WarnAfterCopy(plan, r);
  if (progress && isatty(STDERR_FILENO)) std::fputc('\n', stderr);
  if (r.dsts.empty()) {  // refused before it ran (the copier's Open, the list's Submit): nothing written
    std::fprintf(stderr, "cmbcp: %s\n", cmbtools::WithFixes(r.status).c_str());
    out["copy"] = {{"complete", false}, {"error", cmbtools::WithFixes(r.status)}};
    return ExitFor(r.status);
  }
  nlohmann::json& copy = out["copy"] = CopyJson(plan, r, plan.bytes, before, after);
  copy["extents"] = ext.size();
  copy["bytes_total"] = plan.bytes;
  if (r.complete()) {
    if (!o.json)
      std::fprintf(stderr, "%s; %zu extents, %s\n", ProgressLine(r.bytes_done, r.seconds).c_str(), ext.size(),
                   MethodVia(plan).c_str());
    return kExitOk;
  }
  SayEachDestination(plan, r, ext);
  return ExitAfterCopy(r);
}

// Extent by extent, destination by destination; "verify" is an array of
// destinations (with --extents, whatever their number).
int VerifyExtentsAndReport(const cmb::CopyPlan& plan, const std::vector<cmb::Extent>& ext,
                           const std::function<bool()>& stop, bool json, nlohmann::json& out) {
  int rc = kExitOk;
  nlohmann::json all = nlohmann::json::array();
  for (const cmb::CopyEnd* d : plan.destinations()) {
    uint64_t bytes = 0;
    nlohmann::json r = {{"device", DeviceName(*d)}, {"match", true}, {"first_mismatch_extent", nullptr}};
    cmb::CopyPlan one = OneDestination(plan, *d);
    for (size_t i = 0; i < ext.size(); ++i) {
      one.src.lba = ext[i].src_lba;
      one.dst.lba = ext[i].dst_lba;
      one.bytes = ext[i].count * plan.src.ns.lba_size;
      absl::StatusOr<cmb::VerifyResult> v = cmb::VerifyCopy(one, stop);
      if (!v.ok()) {
        all.push_back({{"error", cmbtools::WithFixes(v.status())}});
        out["verify"] = all;
        return VerifyFailed(*d, absl::StrCat(", extent ", i), v.status(), stop);
      }
      bytes += v->bytes;
      if (v->match) continue;
      r["match"] = false;
      r["first_mismatch_extent"] = i;
      r["first_mismatch_dst_lba"] = *v->first_dst_lba;
      rc = kExitMismatch;
      if (!json)
        std::fprintf(stderr, "verify: MISMATCH on %s: extent %zu (src LBA %llu -> dst LBA %llu) differs first at dst LBA %llu\n",
                     d->ns.name.c_str(), i, static_cast<unsigned long long>(ext[i].src_lba),
                     static_cast<unsigned long long>(ext[i].dst_lba), static_cast<unsigned long long>(*v->first_dst_lba));
      break;
    }
    r["bytes"] = bytes;
    if (!json && r["match"])
      std::fprintf(stderr, "verify: %llu bytes in %zu extents match (%s)\n", static_cast<unsigned long long>(bytes),
                   ext.size(), d->ns.name.c_str());
    all.push_back(r);
  }
  out["verify"] = all;
  return rc;
}

}  // namespace cmbcp
