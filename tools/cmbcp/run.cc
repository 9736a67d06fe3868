#include "fix_words.h"
#include "run.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <numeric>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/copy_engine.h"
#include "cmb/verify.h"
#include "journal.h"
#include "output.h"

namespace cmbcp {
namespace {

// Where --resume continues: the offset given, else the journal's, either
// checked by the library's resume rule. Before any device is opened, so a
// bad offset is a usage error rather than a failed copy.
absl::StatusOr<uint64_t> ResumeFrom(const Options& o, const cmb::CopyPlan& plan, const cmbcp::Journal& journal) {
  if (o.resume_bytes) {
    if (std::string why = cmb::WhyNotResumable(plan, *o.resume_bytes); !why.empty())
      return absl::InvalidArgumentError(absl::StrFormat("--resume=%u is %s", *o.resume_bytes, why));
    return *o.resume_bytes;
  }
  absl::StatusOr<uint64_t> done = journal.Load();
  if (!done.ok()) return absl::Status(done.status().code(), absl::StrCat("--resume: ", done.status().message()));
  if (std::string why = cmb::WhyNotResumable(plan, *done); !why.empty())
    return absl::DataLossError(absl::StrFormat(
        "--resume: the journal %s records %u bytes done, which is %s; it is damaged: delete it, and give "
        "--resume=BYTES with the offset the interrupted run reported, or copy again from the start",
        journal.path(), *done, why));
  return *done;
}

// "nvme2n1 LBAs 8..29703 (15204352 bytes) are copied and flushed; LBAs 29704..524295 are not"
std::string DoneLine(const cmb::CopyPlan& plan, const cmb::CopyEnd& e, uint64_t bytes_done, bool flushed) {
  const uint64_t done = bytes_done / e.ns.lba_size, all = plan.bytes / e.ns.lba_size;
  if (done == 0) return absl::StrFormat("no LBA of %s was completed", e.ns.name);
  std::string left = done < all ? absl::StrFormat("; LBAs %u..%u are not", e.lba + done, e.lba + all - 1) : "";
  return absl::StrFormat("%s LBAs %u..%u (%u bytes) are %s%s", e.ns.name, e.lba, e.lba + done - 1, bytes_done,
                         Durability(flushed), left);
}

// After a copy that did not complete: what is durable (the library's
// resume rule, CopyResult::durable_bytes), and how to go on.
void SayWhatIsLeft(const cmb::CopyPlan& plan, const cmb::CopyResult& r, const Journal& journal) {
  if (!r.status.ok()) std::fprintf(stderr, "cmbcp: %s\n", cmbtools::WithFixes(r.status).c_str());
  std::fprintf(stderr, "cmbcp: %s: %s\n", r.stopped ? "interrupted" : "failed",
               DoneLine(plan, plan.dst, r.bytes_done, r.flushed).c_str());
  const uint64_t durable = r.durable_bytes();
  // What this run wrote but could not flush is not known to be durable: no
  // journal for it; only an earlier run's flushed prefix counts.
  if (!r.flushed && durable == 0) {
    std::fprintf(stderr, "cmbcp: nothing is known to be durable on %s: copy again from the start\n",
                 plan.dst.ns.name.c_str());
  } else if (!r.flushed) {
    std::fprintf(stderr, "cmbcp: only the first %llu bytes (flushed by the earlier run) are known to be durable "
                 "on %s: continue with --resume=%llu\n", static_cast<unsigned long long>(durable),
                 plan.dst.ns.name.c_str(), static_cast<unsigned long long>(durable));
  } else if (durable > 0 && durable < plan.bytes) {
    absl::Status js = journal.Save(durable);
    if (js.ok())
      std::fprintf(stderr, "cmbcp: to continue, run the same command with --resume (journal %s)\n",
                   journal.path().c_str());
    else
      std::fprintf(stderr, "cmbcp: could not save the journal (%s); continue with --resume=%llu\n",
                   std::string(js.message()).c_str(), static_cast<unsigned long long>(durable));
  }
}

// A fan-out that did not complete everywhere: each destination's own outcome.
void SayEachDestination(const cmb::CopyPlan& plan, const cmb::CopyResult& r) {
  for (size_t i = 0; i < r.dsts.size(); ++i) {
    const cmb::DstCompletion& d = r.dsts[i];
    const cmb::CopyEnd& e = *plan.destinations()[i];
    if (d.status.ok() && r.done_bytes(i) == plan.bytes) {
      std::fprintf(stderr, "cmbcp: %s: complete\n", e.ns.name.c_str());
      continue;
    }
    if (!d.status.ok()) std::fprintf(stderr, "cmbcp: %s\n", cmbtools::WithFixes(d.status).c_str());
    const char* how = !d.status.ok() ? "failed" : r.stopped ? "interrupted" : "stopped with the failing destination";
    const uint64_t durable = r.durable_bytes(i);
    std::fprintf(stderr, "cmbcp: %s: %s%s\n", how, DoneLine(plan, e, r.done_bytes(i), d.flushed).c_str(),
                 durable > 0
                     ? absl::StrFormat("; continue it alone with the same range and --resume=%u", durable).c_str()
                     : "");
  }
}

}  // namespace

int CopyAndReport(const cmb::SysRoot& root, const cmb::CopyPlan& plan, const Options& o,
                  const std::function<bool()>& stop, nlohmann::json& out) {
  const bool progress = o.progress < 0 ? isatty(STDERR_FILENO) : o.progress == 1;
  Journal journal = Journal::For(plan);
  cmb::CopyControl ctl;
  ctl.stop = stop;
  ctl.copier = CopierOptionsOf(o);
  if (o.resume) {
    absl::StatusOr<uint64_t> from = ResumeFrom(o, plan, journal);
    if (!from.ok()) {
      std::fprintf(stderr, "cmbcp: %s\n", cmbtools::WithFixes(from.status()).c_str());
      return kExitUsage;
    }
    ctl.resume_bytes = *from;
  }
  if (o.verbose && !o.json) PrintPlan(plan, true);
  if (progress) ctl.progress = ProgressPrinter(ctl.resume_bytes, false);
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  cmb::CopyResult r = cmb::RunCopy(root, plan, ctl);
  getrusage(RUSAGE_SELF, &after);
  WarnAfterCopy(plan, r);
  if (progress && isatty(STDERR_FILENO)) std::fputc('\n', stderr);
  nlohmann::json& copy = out["copy"] = CopyJson(plan, r, plan.bytes, before, after);
  copy["resumed_from"] = r.resumed_from;
  copy["dst_done"] = {{"first_lba", plan.dst.lba}, {"lbas", r.bytes_done / plan.dst.ns.lba_size}};
  for (size_t i = 0; i < r.dsts.size(); ++i) {
    const cmb::CopyEnd& e = *plan.destinations()[i];
    copy["destinations"][i]["dst_done"] = {{"first_lba", e.lba}, {"lbas", r.done_bytes(i) / e.ns.lba_size}};
  }
  if (r.complete()) {
    journal.Remove();
    if (!o.json)
      std::fprintf(stderr, "%s; %s\n", ProgressLine(r.bytes_done - r.resumed_from, r.seconds).c_str(),
                   MethodVia(plan).c_str());
    return kExitOk;
  }
  if (plan.fanout.empty()) SayWhatIsLeft(plan, r, journal);
  else SayEachDestination(plan, r);
  return ExitAfterCopy(r);
}

int VerifyAndReport(const cmb::CopyPlan& plan, const std::function<bool()>& stop, bool json, nlohmann::json& out) {
  int rc = kExitOk;
  nlohmann::json all = nlohmann::json::array();
  for (const cmb::CopyEnd* e : plan.destinations()) {
    const cmb::CopyPlan one = OneDestination(plan, *e);
    absl::StatusOr<cmb::VerifyResult> v = cmb::VerifyCopy(one, stop);
    if (!v.ok()) {
      all.push_back({{"error", cmbtools::WithFixes(v.status())}});
      out["verify"] = all.size() == 1 ? all[0] : nlohmann::json(all);
      return VerifyFailed(*e, "", v.status(), stop);
    }
    all.push_back(VerifyJson(*v));
    if (!json) {
      if (v->match)
        std::fprintf(stderr, "verify: %llu bytes match, crc32c %08x%s\n", static_cast<unsigned long long>(v->bytes),
                     v->src_crc32c, plan.fanout.empty() ? "" : absl::StrCat(" (", e->ns.name, ")").c_str());
      else
        std::fprintf(stderr,
                     "verify: MISMATCH%s: %llu of %llu dst LBAs differ; first at src LBA %llu / dst LBA %llu "
                     "(crc32c src %08x, dst %08x)\n", plan.fanout.empty() ? "" : absl::StrCat(" on ", e->ns.name).c_str(),
                     static_cast<unsigned long long>(v->mismatched_dst_lbas),
                     static_cast<unsigned long long>(one.dst_lbas()), static_cast<unsigned long long>(*v->first_src_lba),
                     static_cast<unsigned long long>(*v->first_dst_lba), v->src_crc32c, v->dst_crc32c);
    }
    if (!v->match) rc = kExitMismatch;
  }
  out["verify"] = all.size() == 1 ? all[0] : nlohmann::json(all);
  return rc;
}

}  // namespace cmbcp
