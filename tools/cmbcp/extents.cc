#include "extents.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmb/copier.h"
#include "cmb/verify.h"
#include "output.h"

namespace cmbcp {
namespace {

using Clock = std::chrono::steady_clock;

// "extents 0..41 whole, 42 in part": where a prefix of the list's bytes ends.
std::string PrefixInExtents(const std::vector<cmb::Extent>& ext, uint32_t lba_size, uint64_t prefix) {
  size_t whole = 0;
  uint64_t at = 0;
  for (; whole < ext.size() && at + ext[whole].count * lba_size <= prefix; ++whole) at += ext[whole].count * lba_size;
  std::string s = whole ? absl::StrFormat("extents 0..%u whole", whole - 1) : "no extent whole";
  if (whole < ext.size() && prefix > at) absl::StrAppend(&s, absl::StrFormat(", extent %u in part", whole));
  return s;
}

// Runs the request to its end; a signal cancels it (what is in flight drains).
cmb::CopyCompletion Drive(cmb::Copier& c, uint64_t id, uint64_t total, bool progress,
                                          const std::function<bool()>& stop) {
  const Clock::time_point t0 = Clock::now();
  Clock::time_point tick = t0 + std::chrono::seconds(1);
  bool cancelled = false;
  for (;;) {
    for (cmb::CopyCompletion& done : c.Process())
      if (done.id == id) return done;
    if (!cancelled && stop()) cancelled = c.Cancel(id).ok();
    if (Clock::now() >= tick) {
      tick = Clock::now() + std::chrono::seconds(1);
      if (progress)
        std::fprintf(stderr, isatty(STDERR_FILENO) ? "\r%s of %llu   " : "%s of %llu\n",
                     ProgressLine(c.Progress(id), std::chrono::duration<double>(Clock::now() - t0).count()).c_str(),
                     static_cast<unsigned long long>(total));
    }
    c.WaitForEvent(std::chrono::ceil<std::chrono::milliseconds>(tick - Clock::now()));
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

int CopyExtentsAndReport(const cmb::SysRoot& root, const cmb::CopyPlan& plan, const std::vector<cmb::Extent>& ext,
                         const Options& o, const std::function<bool()>& stop, nlohmann::json& out) {
  const bool progress = o.progress < 0 ? isatty(STDERR_FILENO) : o.progress == 1;
  const Clock::time_point t0 = Clock::now();
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  absl::StatusOr<cmb::Copier> c =
      cmb::Copier::Open(root, plan, CopierOptionsOf(o));
  absl::StatusOr<uint64_t> id = c.ok() ? c->Submit(ext) : c.status();
  if (!id.ok()) {
    std::fprintf(stderr, "cmbcp: %s\n", std::string(id.status().message()).c_str());
    out["copy"] = {{"complete", false}, {"error", id.status().message()}};
    return ExitFor(id.status());
  }
  uint64_t total = 0;
  for (const cmb::Extent& e : ext) total += e.count * plan.src.ns.lba_size;
  const std::optional<cmb::CopyCompletion> done = Drive(*c, *id, total, progress, stop);
  if (progress && isatty(STDERR_FILENO)) std::fputc('\n', stderr);
  getrusage(RUSAGE_SELF, &after);
  for (const std::string& why : c->stats().not_held)
    std::fprintf(stderr, "cmbcp: warning: %s; it was checked unused before the copy, but nothing stops a mount "
                 "meanwhile (run as root, or join the device's group)\n", why.c_str());
  for (const cmb::DstCompletion& d : done->dsts)
    if (!d.page_cache_not_dropped.empty())
      std::fprintf(stderr, "cmbcp: warning: %s: readers of %s may see its old data until the page cache lets go "
                   "(echo 1 > /proc/sys/vm/drop_caches as root, or read with O_DIRECT)\n",
                   d.page_cache_not_dropped.c_str(), d.name.c_str());
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  nlohmann::json dsts = nlohmann::json::array();
  for (const cmb::DstCompletion& d : done->dsts)
    dsts.push_back({{"device", d.name}, {"complete", d.status.ok() && d.prefix_bytes == total},
                    {"error", d.status.ok() ? nlohmann::json() : nlohmann::json(std::string(d.status.message()))},
                    {"bytes_done", d.prefix_bytes}, {"flushed", d.flushed}});
  out["copy"] = {{"complete", done->status.ok()}, {"interrupted", done->cancelled},
                 {"error", done->status.ok() ? nlohmann::json() : nlohmann::json(std::string(done->status.message()))},
                 {"extents", ext.size()}, {"bytes_total", total}, {"bytes_done", done->prefix_bytes()},
                 {"destinations", dsts}, {"seconds", s}, {"mb_per_s", Rate(done->prefix_bytes(), s)},
                 {"commands", done->commands}, {"cpu", CpuJson(before, after, done->prefix_bytes())}};
  if (done->status.ok()) {
    if (!o.json)
      std::fprintf(stderr, "%s; %zu extents, %s%s\n", ProgressLine(total, s).c_str(), ext.size(),
                   cmb::CopyMethodName(plan.method),
                   plan.provider ? absl::StrCat(" through ", plan.provider->ToString()).c_str() : "");
    return kExitOk;
  }
  std::fprintf(stderr, "cmbcp: %s\n", std::string(done->status.message()).c_str());
  for (const cmb::DstCompletion& d : done->dsts) {
    if (d.status.ok() && d.prefix_bytes == total) continue;
    if (!d.status.ok() && d.status != done->status)  // its own cause; the first one is said above
      std::fprintf(stderr, "cmbcp: %s\n", std::string(d.status.message()).c_str());
    std::fprintf(stderr, "cmbcp: %s: %s: the first %llu of %llu bytes of the list are %s (%s)\n",
                 done->cancelled ? "interrupted" : "failed", d.name.c_str(),
                 static_cast<unsigned long long>(d.prefix_bytes), static_cast<unsigned long long>(total),
                 d.flushed ? "copied and flushed" : "written but NOT flushed",
                 PrefixInExtents(ext, plan.src.ns.lba_size, d.prefix_bytes).c_str());
  }
  if (done->status.ok() || absl::IsCancelled(done->status)) return kExitInterrupted;
  return done->commands == 0 ? kExitRefused : kExitIo;
}

int VerifyExtentsAndReport(const cmb::CopyPlan& plan, const std::vector<cmb::Extent>& ext,
                           const std::function<bool()>& stop, bool json, nlohmann::json& out) {
  int rc = kExitOk;
  nlohmann::json all = nlohmann::json::array();
  for (const cmb::CopyEnd* d : plan.destinations()) {
    uint64_t bytes = 0;
    nlohmann::json r = {{"device", d->ns.name}, {"match", true}, {"first_mismatch_extent", nullptr}};
    for (size_t i = 0; i < ext.size(); ++i) {
      cmb::CopyPlan one = plan;
      one.dst = *d;
      one.fanout.clear();
      one.src.lba = ext[i].src_lba;
      one.dst.lba = ext[i].dst_lba;
      one.bytes = ext[i].count * plan.src.ns.lba_size;
      absl::StatusOr<cmb::VerifyResult> v = cmb::VerifyCopy(one, stop);
      if (!v.ok()) {
        std::fprintf(stderr, "cmbcp: verify %s, extent %zu: %s\n", d->ns.name.c_str(), i,
                     std::string(v.status().message()).c_str());
        out["verify"] = {{"error", v.status().message()}};
        return stop() ? kExitInterrupted : kExitIo;
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
