#include "fix_words.h"
#include "output.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "options.h"
#include "report.h"

namespace cmbcp {

std::string DeviceName(const cmb::CopyEnd& e) {
  return e.ns.generic_device.empty() ? e.ns.block_device : e.ns.generic_device;
}

nlohmann::json EndJson(const cmb::CopyEnd& e, uint64_t lbas) {
  return {{"device", DeviceName(e)},
          {"block_device", e.ns.block_device},
          {"controller", e.controller},
          {"serial", e.serial},
          {"address", e.address ? nlohmann::json(e.address->ToString()) : nlohmann::json()},
          {"dma_client", e.dma_client ? nlohmann::json(e.dma_client->ToString()) : nlohmann::json()},
          {"nsid", e.ns.nsid},
          {"lba_size", e.ns.lba_size},
          {"first_lba", e.lba},
          {"lbas", lbas},
          {"path", cmb::DataPathName(e.path)}};
}

static nlohmann::json OwnCmbJson(const std::optional<cmb::OwnCmbPlan>& o) {
  if (!o) return nullptr;
  nlohmann::json probes = nlohmann::json::array();
  for (const cmb::OwnCmbProbe& p : o->probes)
    probes.push_back({{"bytes", p.bytes}, {"wrote_back", p.wrote_back}, {"accepted", p.accepted}, {"status", p.status},
                      {"path", cmb::DataPathName(p.path)}});
  return {{"owner", o->owner},
          {"predicted", cmb::OwnCmbOutcomeName(o->predicted.outcome)},
          {"reason", o->predicted.reason},
          {"probes", probes},
          {"command_bytes_limit", o->command_bytes_limit},
          {"path", cmb::DataPathName(o->path)}};
}

nlohmann::json PlanJson(const cmb::CopyPlan& p) {
  nlohmann::json fanout = nlohmann::json::array();
  for (const cmb::CopyEnd& e : p.fanout) fanout.push_back(EndJson(e, p.bytes / e.ns.lba_size));
  nlohmann::json paths = nlohmann::json::array();
  nlohmann::json stripe = nlohmann::json::array();
  for (const cmb::PciAddress& a : p.stripe) stripe.push_back(a.ToString());
  for (const cmb::P2pPath& x : p.paths)
    paths.push_back({{"provider", x.provider.ToString()}, {"client", x.client.ToString()},
                     {"verdict", cmb::PathVerdictName(x.verdict)}, {"reason", x.reason}});
  return {{"method", cmb::CopyMethodName(p.method)},
          {"provider", p.provider ? nlohmann::json(p.provider->ToString()) : nlohmann::json()},
          {"stripe", stripe},
          {"src", EndJson(p.src, p.src_lbas())},
          {"dst", EndJson(p.dst, p.dst_lbas())},
          {"fanout", fanout},
          {"bytes", p.bytes},
          {"chunk", p.chunk_bytes},
          {"qd", p.qd},
          {"ring_bytes", p.ring_bytes()},
          {"paths", paths},
          {"own_cmb", OwnCmbJson(p.own_cmb)},
          {"reasons", p.reasons},
          {"hold_dst", p.hold_dst},
          {"overridden", p.overridden}};
}

nlohmann::json VerifyJson(const cmb::VerifyResult& v) {
  auto opt = [](const std::optional<uint64_t>& x) { return x ? nlohmann::json(*x) : nlohmann::json(); };
  return {{"match", v.match},
          {"bytes", v.bytes},
          {"src_crc32c", absl::StrFormat("%08x", v.src_crc32c)},
          {"dst_crc32c", absl::StrFormat("%08x", v.dst_crc32c)},
          {"mismatched_dst_lbas", v.mismatched_dst_lbas},
          {"first_mismatch_src_lba", opt(v.first_src_lba)},
          {"first_mismatch_dst_lba", opt(v.first_dst_lba)},
          {"seconds", v.seconds}};
}

// "nvme2n1", or "nvme2n1+nvme3n1+nvme4n1" for a fan-out.
std::string DstNames(const cmb::CopyPlan& p) {
  std::vector<std::string> n;
  for (const cmb::CopyEnd* e : p.destinations()) n.push_back(e->ns.name);
  return absl::StrJoin(n, "+");
}

std::string Providers(const cmb::CopyPlan& p) {
  return absl::StrJoin(p.cmbs(), "+", [](std::string* out, const cmb::PciAddress& a) { out->append(a.ToString()); });
}

std::string MethodVia(const cmb::CopyPlan& p) {
  return p.provider ? absl::StrCat(cmb::CopyMethodName(p.method), " through ", Providers(p))
                    : cmb::CopyMethodName(p.method);
}

// "path passthrough" when every end takes one path, else each end's.
static std::string PathsText(const cmb::CopyPlan& p) {
  std::vector<const cmb::CopyEnd*> ends{&p.src};
  for (const cmb::CopyEnd* d : p.destinations()) ends.push_back(d);
  bool same = true;
  for (const cmb::CopyEnd* e : ends) same = same && e->path == p.src.path;
  if (same) return absl::StrCat("path ", cmb::DataPathName(p.src.path));
  std::vector<std::string> each;
  for (const cmb::CopyEnd* e : ends) each.push_back(absl::StrCat(e->ns.name, " ", cmb::DataPathName(e->path)));
  return absl::StrCat("paths ", absl::StrJoin(each, ", "));
}

void PrintPlan(const cmb::CopyPlan& p, bool verbose, size_t extents) {
  std::string via = !p.provider         ? ""
                    : p.stripe.empty() ? absl::StrCat(" through the CMB of ", p.provider->ToString())
                                       : absl::StrCat(" striped over the CMBs of ", Providers(p));
  // A list's LBAs are its own: only where they start on each end says anything.
  std::string what =
      extents ? absl::StrFormat("%s -> %s, %u extents from LBA %u -> LBA %u", p.src.ns.name, DstNames(p), extents,
                                p.src.lba, p.dst.lba)
              : absl::StrFormat("%s LBAs %u..%u -> %s LBAs %u..%u", p.src.ns.name, p.src.lba,
                                p.src.lba + p.src_lbas() - 1, DstNames(p), p.dst.lba, p.dst.lba + p.dst_lbas() - 1);
  std::cout << absl::StrFormat("plan: %s %s, %u bytes (%s), %s%s, chunk %s, qd %u, %s\n",
                               cmb::CopyMethodName(p.method), what, p.bytes, cmbtools::HumanBytes(p.bytes),
                               cmb::CopyMethodName(p.method), via, cmbtools::HumanBytes(p.chunk_bytes), p.qd,
                               PathsText(p));
  if (verbose)
    for (const std::string& r : p.reasons) std::cout << "  " << r << "\n";
}

nlohmann::json CpuJson(const struct rusage& before, const struct rusage& after, uint64_t bytes) {
  auto s = [](const timeval& a, const timeval& b) {
    return static_cast<double>(b.tv_sec - a.tv_sec) + static_cast<double>(b.tv_usec - a.tv_usec) / 1e6;
  };
  const double user = s(before.ru_utime, after.ru_utime), sys = s(before.ru_stime, after.ru_stime);
  return {{"user_s", user}, {"sys_s", sys},
          {"per_gib_s", bytes ? nlohmann::json((user + sys) / (static_cast<double>(bytes) / (1ull << 30))) : nlohmann::json()}};
}

double Rate(uint64_t bytes, double s) { return s > 0 ? bytes / s / 1e6 : 0; }

std::string ProgressLine(uint64_t bytes, double s) {
  // Short copies get decimals, as dd's final line has, instead of "0 s".
  return absl::StrFormat("%u bytes (%.0f MB, %s) copied, %.*f s, %.1f MB/s", bytes, bytes / 1e6,
                         cmbtools::HumanBytes(bytes), s < 10 ? 2 : 0, s, Rate(bytes, s));
}

std::function<void(const cmb::CopyProgress&)> ProgressPrinter(uint64_t resumed, bool of_total) {
  return [tty = isatty(STDERR_FILENO) == 1, resumed, of_total](const cmb::CopyProgress& p) {
    std::string line = ProgressLine(p.bytes_done - resumed, p.seconds);
    if (of_total) absl::StrAppend(&line, " of ", p.bytes_total - resumed);
    std::fprintf(stderr, tty ? "\r%s   " : "%s\n", line.c_str());
  };
}

const char* Durability(bool flushed) {
  // Only a successful Flush makes a prefix durable; say which it is.
  return flushed ? "copied and flushed" : "written but NOT flushed (the flush failed)";
}

void WarnAfterCopy(const cmb::CopyPlan& plan, const cmb::CopyResult& r) {
  if (!r.dst_not_held.empty())
    std::fprintf(stderr, "cmbcp: warning: %s; it was checked unused before the copy, but nothing stops a mount "
                 "meanwhile (run as root, or join the device's group)\n", r.dst_not_held.c_str());
  for (size_t i = 0; i < r.dsts.size(); ++i)
    if (!r.dsts[i].page_cache_not_dropped.empty())
      std::fprintf(stderr, "cmbcp: warning: %s: readers of %s may see its old data until the page cache lets go "
                   "(echo 1 > /proc/sys/vm/drop_caches as root, or read with O_DIRECT)\n",
                   r.dsts[i].page_cache_not_dropped.c_str(), plan.destinations()[i]->ns.block_device.c_str());
}

static nlohmann::json ErrorJson(const absl::Status& s) {
  return s.ok() ? nlohmann::json() : nlohmann::json(cmbtools::WithFixes(s));
}

nlohmann::json DstJson(const cmb::CopyEnd& e, const cmb::CopyResult& r, size_t i, uint64_t total) {
  const cmb::DstCompletion& d = r.dsts[i];
  return {{"device", DeviceName(e)},
          {"complete", d.status.ok() && r.done_bytes(i) == total},
          {"error", ErrorJson(d.status)},
          {"bytes_done", r.done_bytes(i)},
          {"flushed", d.flushed},
          {"page_cache_dropped", d.page_cache_not_dropped.empty()}};
}

nlohmann::json CopyJson(const cmb::CopyPlan& plan, const cmb::CopyResult& r, uint64_t total,
                        const struct rusage& before, const struct rusage& after) {
  const uint64_t moved = r.bytes_done - r.resumed_from;
  nlohmann::json dsts = nlohmann::json::array();
  for (size_t i = 0; i < r.dsts.size(); ++i) dsts.push_back(DstJson(*plan.destinations()[i], r, i, total));
  return {{"complete", r.complete()},
          {"interrupted", r.stopped},
          {"error", ErrorJson(r.status)},
          {"page_cache_dropped", r.page_cache_not_dropped.empty()},
          {"page_cache_note", r.page_cache_not_dropped.empty() ? nlohmann::json()
                                                               : nlohmann::json(r.page_cache_not_dropped)},
          {"bytes_done", r.bytes_done},
          {"destinations", dsts},
          {"seconds", r.seconds},
          {"mb_per_s", Rate(moved, r.seconds)},
          {"commands", r.commands},
          {"cpu", CpuJson(before, after, moved)},
          {"flushed", r.flushed},
          {"dst_held_exclusively", r.dst_held}};
}

int ExitAfterCopy(const cmb::CopyResult& r) {
  // Nothing completed (open, allocation or the first command failed): nothing was written.
  return r.stopped && r.status.ok() ? kExitInterrupted : r.commands == 0 ? kExitRefused : kExitIo;
}

cmb::CopyPlan OneDestination(const cmb::CopyPlan& plan, const cmb::CopyEnd& e) {
  cmb::CopyPlan one = plan;
  one.dst = e;
  one.fanout.clear();
  return one;
}

int VerifyFailed(const cmb::CopyEnd& e, const std::string& where, const absl::Status& why,
                 const std::function<bool()>& stop) {
  std::fprintf(stderr, "cmbcp: verify %s%s: %s\n", e.ns.name.c_str(), where.c_str(), cmbtools::WithFixes(why).c_str());
  return stop() ? kExitInterrupted : kExitIo;
}

}  // namespace cmbcp
