// cmbcp: copies LBA ranges between NVMe namespaces peer-to-peer through a
// Controller Memory Buffer, to one destination or several (fan-out). A thin
// front end: parse (options.h) -> cmb::ResolveNamespace -> cmb::PlanFanOut
// -> copy and verify (run.h) -> report (output.h).
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <tuple>

#include "fix_words.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/copy_plan.h"
#include "cmb/planner.h"
#include "cmb/discovery.h"
#include "extents.h"
#include "options.h"
#include "output.h"
#include "report.h"
#include "run.h"

namespace {

std::atomic<int> g_signal{0};
extern "C" void OnSignal(int sig) { g_signal.store(sig); }

// The request the options describe; `dsts` gets every destination.
absl::Status BuildRequest(const cmb::SysRoot& root, const cmb::System& sys, const cmbcp::Options& o,
                          cmb::CopyRequest& req, std::vector<cmb::NamespaceRef>& dsts) {
  absl::Status bad;
  auto resolve = [&](const std::string& spec) {
    absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(root, sys, spec);
    if (!r.ok() && bad.ok()) bad = r.status();
    return r.ok() ? *r : cmb::NamespaceRef{};
  };
  if (o.spdk_read) {
    req.src = resolve(absl::StrCat(o.spdk_read->bdf.ToString(), ":", o.spdk_read->nsid));
    dsts.push_back(resolve(absl::StrCat(o.spdk_write->bdf.ToString(), ":", o.spdk_write->nsid)));
    req.src_lba = o.spdk_read->slba;
    req.dst_lba = o.spdk_write->slba;
    req.count = o.spdk_read->nlbas;
    if (bad.ok() && o.spdk_read->nlbas * req.src.ns->lba_size != o.spdk_write->nlbas * dsts[0].ns->lba_size)
      bad = absl::InvalidArgumentError(absl::StrFormat("-r covers %u bytes but -w covers %u bytes",
                                                       o.spdk_read->nlbas * req.src.ns->lba_size,
                                                       o.spdk_write->nlbas * dsts[0].ns->lba_size));
  } else {
    req.src = resolve(o.positional[0]);
    for (size_t i = 1; i < o.positional.size(); ++i) dsts.push_back(resolve(o.positional[i]));
    std::tie(req.src_lba, req.dst_lba, req.count, req.bytes) = std::tuple(o.src_lba, o.dst_lba, o.count, o.bytes);
  }
  if (bad.ok() && !o.via.empty() && o.via != "auto") {
    absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse(o.via);
    if (!a.ok()) bad = absl::InvalidArgumentError(absl::StrCat("--via: ", a.status().message()));
    else req.via = *a;
  }
  req.method = o.verify_only ? cmb::CopyMethod::kBounce : o.method;
  req.path = o.path;
  req.allow_bounce = o.allow_bounce;
  req.stripe = o.stripe && !o.verify_only;  // verify-only reads through host memory
  req.chunk_bytes = o.verify_only ? 0 : o.chunk;
  req.qd = o.qd;
  req.force = o.force;
  req.read_only = o.verify_only;  // verify-only writes nothing
  req.prove_with_writes = !o.dry_run;     // a dry run writes nothing either
  return bad;
}

int Fail(const absl::Status& s, bool json, int rc) {
  if (json) std::cout << cmbtools::Dump(nlohmann::json{{"error", cmbtools::WithFixes(s)}}) << "\n";
  std::fprintf(stderr, "cmbcp: %s\n", cmbtools::WithFixes(s).c_str());
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  cmbcp::Options o;
  if (std::optional<int> stop = cmbcp::Parse(argc, argv, o)) return *stop;
  cmb::SysRoot root = cmb::SysRoot::FromEnvironment();
  absl::StatusOr<cmb::System> sys = cmb::Discover(root);
  if (!sys.ok()) return Fail(sys.status(), o.json, cmbcp::kExitRefused);  // nothing was written
  cmb::CopyRequest req;
  std::vector<cmb::NamespaceRef> dsts;
  if (absl::Status s = BuildRequest(root, *sys, o, req, dsts); !s.ok()) return Fail(s, o.json, cmbcp::ExitFor(s));
  std::vector<cmb::Extent> extents;
  if (!o.extents.empty()) {
    absl::StatusOr<std::vector<cmb::Extent>> e = cmbcp::LoadExtents(o.extents);
    if (!e.ok()) return Fail(e.status(), o.json, cmbcp::kExitUsage);
    extents = std::move(*e);
    // The plan is sized for the list and checks its span; the planner's
    // own-CMB proof of a list only reads.
    req.extents = extents;
  }
  absl::StatusOr<cmb::CopyPlan> plan = cmb::PlanFanOut(root, *sys, req, dsts);
  if (!plan.ok()) return Fail(plan.status(), o.json, cmbcp::ExitFor(plan.status()));
  if (!o.verify_only)
    for (const std::string& w : plan->overridden) std::fprintf(stderr, "cmbcp: --force: %s\n", w.c_str());
  nlohmann::json out = {{"plan", cmbcp::PlanJson(*plan)}};
  if (!extents.empty()) out["extents"] = extents.size();
  if (o.dry_run) {
    if (o.json) std::cout << cmbtools::Dump(out) << "\n";
    else cmbcp::PrintPlan(*plan, true, extents.size());
    if (!o.json && !extents.empty())
      std::printf("extents: %zu from %s (the plan is sized for them)\n", extents.size(), o.extents.c_str());
    return cmbcp::kExitOk;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESETHAND;  // a second signal kills at once
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto stop = [] { return g_signal.load() != 0; };
  int rc = o.verify_only      ? cmbcp::kExitOk
           : extents.empty() ? cmbcp::CopyAndReport(root, *plan, o, stop, out)
                             : cmbcp::CopyExtentsAndReport(root, *plan, extents, o, stop, out);
  if (rc == cmbcp::kExitOk && (o.verify || o.verify_only))
    rc = extents.empty() ? cmbcp::VerifyAndReport(*plan, stop, o.json, out)
                         : cmbcp::VerifyExtentsAndReport(*plan, extents, stop, o.json, out);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  out["peak_rss_bytes"] = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  out["exit_status"] = rc;
  if (o.json) std::cout << cmbtools::Dump(out) << "\n";
  return rc;
}
