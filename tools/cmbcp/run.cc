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

// Where --resume continues: the offset given, else the journal's. Checked
// against the plan before any device is opened, so a bad offset is a usage
// error rather than a failed copy.
absl::StatusOr<uint64_t> ResumeFrom(const Options& o, const cmb::CopyPlan& plan, const cmbcp::Journal& journal) {
  const uint64_t unit = plan.lba_unit();
  if (o.resume_bytes) {
    uint64_t b = *o.resume_bytes;
    if (b > plan.bytes)
      return absl::InvalidArgumentError(absl::StrFormat("--resume=%u is beyond the %u-byte range", b, plan.bytes));
    if (b % unit != 0)
      return absl::InvalidArgumentError(
          absl::StrFormat("--resume=%u is not a multiple of %u bytes (both LBA sizes)", b, unit));
    return b;
  }
  absl::StatusOr<uint64_t> done = journal.Load();
  if (!done.ok()) return absl::Status(done.status().code(), absl::StrCat("--resume: ", done.status().message()));
  if (*done > plan.bytes || *done % unit != 0)
    return absl::DataLossError(absl::StrFormat(
        "--resume: the journal %s records %u bytes done, which is %s; it is damaged: delete it, and give "
        "--resume=BYTES with the offset the interrupted run reported, or copy again from the start",
        journal.path(), *done,
        *done > plan.bytes ? absl::StrFormat("beyond the %u-byte range", plan.bytes)
                           : absl::StrFormat("not a multiple of %u bytes (both LBA sizes)", unit)));
  return *done;
}


// "nvme2n1 LBAs 8..29703 (15204352 bytes) are copied and flushed; LBAs 29704..524295 are not"
std::string DoneLine(const cmb::CopyPlan& plan, const cmb::CopyEnd& e, uint64_t bytes_done, bool flushed) {
  const uint64_t done = bytes_done / e.ns.lba_size, all = plan.bytes / e.ns.lba_size;
  if (done == 0) return absl::StrFormat("no LBA of %s was completed", e.ns.name);
  std::string left = done < all ? absl::StrFormat("; LBAs %u..%u are not", e.lba + done, e.lba + all - 1) : "";
  // Only a successful Flush makes the prefix durable; say which it is.
  return absl::StrFormat("%s LBAs %u..%u (%u bytes) are %s%s", e.ns.name, e.lba, e.lba + done - 1, bytes_done,
                         flushed ? "copied and flushed" : "written but NOT flushed (the flush failed)", left);
}

nlohmann::json DstJson(const cmb::CopyEnd& e, const cmb::DstCompletion& d, uint64_t bytes_done, uint64_t total) {
  return {{"device", e.ns.generic_device.empty() ? e.ns.block_device : e.ns.generic_device},
          {"complete", d.status.ok() && bytes_done == total},
          {"error", d.status.ok() ? nlohmann::json() : nlohmann::json(std::string(d.status.message()))},
          {"bytes_done", bytes_done},
          {"dst_done", {{"first_lba", e.lba}, {"lbas", bytes_done / e.ns.lba_size}}},
          {"flushed", d.flushed},
          {"page_cache_dropped", d.page_cache_not_dropped.empty()}};
}

void Warn(const cmb::CopyPlan& plan, const cmb::CopyResult& r) {
  if (!r.dst_not_held.empty())
    std::fprintf(stderr, "cmbcp: warning: %s; it was checked unused before the copy, but nothing stops a mount "
                 "meanwhile (run as root, or join the device's group)\n", r.dst_not_held.c_str());
  for (size_t i = 0; i < r.dsts.size(); ++i)
    if (!r.dsts[i].page_cache_not_dropped.empty())
      std::fprintf(stderr, "cmbcp: warning: %s: readers of %s may see its old data until the page cache lets go "
                   "(echo 1 > /proc/sys/vm/drop_caches as root, or read with O_DIRECT)\n",
                   r.dsts[i].page_cache_not_dropped.c_str(), plan.destinations()[i]->ns.block_device.c_str());
}

// After a copy that did not complete: what is durable, and how to go on.
void SayWhatIsLeft(const cmb::CopyPlan& plan, const cmb::CopyResult& r, uint64_t resumed, const Journal& journal) {
  if (!r.status.ok()) std::fprintf(stderr, "cmbcp: %s\n", std::string(r.status.message()).c_str());
  std::fprintf(stderr, "cmbcp: %s: %s\n", r.stopped ? "interrupted" : "failed",
               DoneLine(plan, plan.dst, r.bytes_done, r.flushed).c_str());
  // What this run wrote but could not flush is not known to be durable:
  // no journal for it; only an earlier run's flushed prefix counts.
  if (!r.flushed && resumed == 0) {
    std::fprintf(stderr, "cmbcp: nothing is known to be durable on %s: copy again from the start\n",
                 plan.dst.ns.name.c_str());
  } else if (!r.flushed) {
    std::fprintf(stderr, "cmbcp: only the first %llu bytes (flushed by the earlier run) are known to be durable "
                 "on %s: continue with --resume=%llu\n", static_cast<unsigned long long>(resumed),
                 plan.dst.ns.name.c_str(), static_cast<unsigned long long>(resumed));
  } else if (r.bytes_done > 0 && r.bytes_done < plan.bytes) {
    absl::Status js = journal.Save(r.bytes_done);
    if (js.ok())
      std::fprintf(stderr, "cmbcp: to continue, run the same command with --resume (journal %s)\n",
                   journal.path().c_str());
    else
      std::fprintf(stderr, "cmbcp: could not save the journal (%s); continue with --resume=%llu\n",
                   std::string(js.message()).c_str(), static_cast<unsigned long long>(r.bytes_done));
  }
}

// A fan-out that did not complete everywhere: each destination's own outcome.
void SayEachDestination(const cmb::CopyPlan& plan, const cmb::CopyResult& r) {
  for (size_t i = 0; i < r.dsts.size(); ++i) {
    const cmb::DstCompletion& d = r.dsts[i];
    const cmb::CopyEnd& e = *plan.destinations()[i];
    if (d.status.ok() && d.prefix_bytes == plan.bytes) {
      std::fprintf(stderr, "cmbcp: %s: complete\n", e.ns.name.c_str());
      continue;
    }
    if (!d.status.ok()) std::fprintf(stderr, "cmbcp: %s\n", std::string(d.status.message()).c_str());
    const char* how = !d.status.ok() ? "failed" : r.stopped ? "interrupted" : "stopped with the failing destination";
    std::fprintf(stderr, "cmbcp: %s: %s%s\n", how,
                 DoneLine(plan, e, d.prefix_bytes, d.flushed).c_str(),
                 d.flushed && d.prefix_bytes > 0
                     ? absl::StrFormat("; continue it alone with the same range and --resume=%u", d.prefix_bytes).c_str()
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
      std::fprintf(stderr, "cmbcp: %s\n", std::string(from.status().message()).c_str());
      return kExitUsage;
    }
    ctl.resume_bytes = *from;
  }
  if (o.verbose && !o.json) PrintPlan(plan, true);
  if (progress)
    ctl.progress = [isatty = isatty(STDERR_FILENO) == 1, resume = ctl.resume_bytes](const cmb::CopyProgress& p) {
      std::fprintf(stderr, isatty ? "\r%s   " : "%s\n", ProgressLine(p.bytes_done - resume, p.seconds).c_str());
    };
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  cmb::CopyResult r = cmb::RunCopy(root, plan, ctl);
  getrusage(RUSAGE_SELF, &after);
  Warn(plan, r);
  if (progress && isatty(STDERR_FILENO)) std::fputc('\n', stderr);
  const uint64_t moved = r.bytes_done - ctl.resume_bytes;
  nlohmann::json dsts = nlohmann::json::array();
  for (size_t i = 0; i < r.dsts.size(); ++i)
    dsts.push_back(DstJson(*plan.destinations()[i], r.dsts[i], ctl.resume_bytes + r.dsts[i].prefix_bytes, plan.bytes));
  out["copy"] = {{"complete", r.complete()},
                 {"interrupted", r.stopped},
                 {"error", r.status.ok() ? nlohmann::json() : nlohmann::json(std::string(r.status.message()))},
                 {"resumed_from", ctl.resume_bytes},
                 {"page_cache_dropped", r.page_cache_not_dropped.empty()},
                 {"page_cache_note", r.page_cache_not_dropped.empty() ? nlohmann::json()
                                                                      : nlohmann::json(r.page_cache_not_dropped)},
                 {"bytes_done", r.bytes_done},
                 {"dst_done", {{"first_lba", plan.dst.lba}, {"lbas", r.bytes_done / plan.dst.ns.lba_size}}},
                 {"destinations", dsts},
                 {"seconds", r.seconds},
                 {"mb_per_s", Rate(moved, r.seconds)},
                 {"commands", r.commands},
                 {"cpu", CpuJson(before, after, moved)},
                 {"flushed", r.flushed},
                 {"dst_held_exclusively", r.dst_held}};
  if (r.complete()) {
    journal.Remove();
    if (!o.json)
      std::fprintf(stderr, "%s; %s %s\n", ProgressLine(moved, r.seconds).c_str(), cmb::CopyMethodName(plan.method),
                   plan.provider ? absl::StrCat("through ", Providers(plan)).c_str() : "");
    return kExitOk;
  }
  if (plan.fanout.empty()) SayWhatIsLeft(plan, r, ctl.resume_bytes, journal);
  else SayEachDestination(plan, r);
  // Nothing completed (open, allocation or the first command failed): nothing was written.
  return r.stopped && r.status.ok() ? kExitInterrupted : r.commands == 0 ? kExitRefused : kExitIo;
}

int VerifyAndReport(const cmb::CopyPlan& plan, const std::function<bool()>& stop, bool json, nlohmann::json& out) {
  int rc = kExitOk;
  nlohmann::json all = nlohmann::json::array();
  for (const cmb::CopyEnd* e : plan.destinations()) {
    cmb::CopyPlan one = plan;
    one.dst = *e;
    one.fanout.clear();
    absl::StatusOr<cmb::VerifyResult> v = cmb::VerifyCopy(one, stop);
    if (!v.ok()) {
      std::fprintf(stderr, "cmbcp: verify %s: %s\n", e->ns.name.c_str(), std::string(v.status().message()).c_str());
      all.push_back({{"error", v.status().message()}});
      out["verify"] = all.size() == 1 ? all[0] : nlohmann::json(all);
      return stop() ? kExitInterrupted : kExitIo;
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
