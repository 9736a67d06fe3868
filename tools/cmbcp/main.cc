// cmbcp: copies LBA ranges between NVMe namespaces peer-to-peer through a
// Controller Memory Buffer. A thin front end: parse -> cmb::ResolveNamespace
// -> cmb::PlanCopy -> cmb::RunCopy -> cmb::VerifyCopy -> report.
#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmb/copy_engine.h"
#include "cmb/copy_plan.h"
#include "cmb/discovery.h"
#include "cmb/namespace_spec.h"
#include "cmb/verify.h"
#include "journal.h"
#include "report.h"
#include "terms.h"

namespace {

// Exit status, documented in --help and cmbcp(1).
constexpr int kExitOk = 0;
constexpr int kExitIo = 1;        // the copy started and failed; the completed prefix is reported
constexpr int kExitUsage = 2;     // bad options or arguments; nothing done
constexpr int kExitNotFound = 3;  // a named device does not exist; nothing done
constexpr int kExitRefused = 4;   // refused before any write (unsafe, beyond the end, no P2P path)
constexpr int kExitMismatch = 5;  // --verify found differences
constexpr int kExitInterrupted = 130;  // SIGINT/SIGTERM: stopped cleanly, resumable

std::atomic<int> g_signal{0};
extern "C" void OnSignal(int sig) { g_signal.store(sig); }

void Usage(FILE* out) {
  std::fprintf(out, R"(Usage: cmbcp [OPTIONS] SRC DST
       cmbcp -r BDF-NSID-SLBA-NLBAS -w BDF-NSID-SLBA-NLBAS [-c BDF] [OPTIONS]
Copy LBAs from namespace SRC to namespace DST peer-to-peer through an NVMe
Controller Memory Buffer (CMB), with the kernel's nvme driver (no unbinding).

SRC and DST: /dev/ngXnY, /dev/nvmeXnY, nvmeX:NSID, or a PCI address with a
namespace (0000:03:00.0:1). The second form is SPDK cmb_copy's.

Range:
  -s, --src-lba LBA     first source LBA (default 0)
  -d, --dst-lba LBA     first destination LBA (default 0)
  -n, --count N         source LBAs to copy
  -b, --bytes SIZE      bytes to copy (K, M, G, T suffixes); a whole number of
                        LBAs on both sides
Method:
      --via BDF|auto    the CMB to copy through (default auto: the destination's
                        own, else the source's, else any the kernel allows)
  -c BDF                same as --via (SPDK cmb_copy)
  -m, --method M        auto (default), p2p, bounce, nvme-copy. auto: NVMe Copy
                        within one namespace when the controller supports it,
                        else p2p, else an error saying why
      --allow-bounce    let auto fall back to copying through host memory
      --chunk SIZE      bytes per command (default: max transfer, <= 1M)
      --qd N            commands in flight (default 16, limited by free CMB)
      --rate SIZE       copy at most SIZE bytes per second (K, M, G suffixes),
                        like pv -L, so production I/O is not starved
Safety:
      --force           write to a destination that is in use (mounted, swap,
                        md/dm) or whose use cannot be read, without holding it
      --resume[=BYTES]  continue an interrupted copy (BYTES: from this offset;
                        without: from the journal the interrupted run saved)
      --dry-run         print the plan; nothing is written (an end's own CMB is proven by a read)
Checking and output:
      --verify          after copying, compare both ranges through host memory
                        (CRC-32C) and report the first differing LBA
      --verify-only     compare only; no copy
  -o, --output FORMAT   text (default) or json (schema: docs/json-schema.md)
      --progress        progress on stderr every second even if not a TTY
      --no-progress     no progress, even on a TTY
  -v, --verbose         why this method, CMB, chunk and depth
  -h, --help            this text
      --version         version

Exit status: 0 copied (and verified), 1 I/O error after the copy started
(the completed prefix is reported), 2 usage error, 3 device not found,
4 refused before writing (in use, overlap, beyond the end, no P2P path,
CMB full, permission denied), 5 verify mismatch, 130 interrupted (resume
with --resume).
)");
}

struct Options {
  std::vector<std::string> positional;
  std::optional<cmb::SpdkRange> spdk_read, spdk_write;
  std::string via;  // "", "auto", or a BDF
  uint64_t src_lba = 0, dst_lba = 0;
  bool src_lba_set = false, dst_lba_set = false;
  std::optional<uint64_t> count, bytes;
  cmb::CopyMethod method = cmb::CopyMethod::kAuto;
  bool allow_bounce = false, force = false, dry_run = false, verify = false, verify_only = false;
  uint64_t chunk = 0;
  unsigned qd = 0;
  uint64_t rate = 0;  // bytes per second; 0: unlimited
  bool resume = false;
  std::optional<uint64_t> resume_bytes;
  bool json = false, verbose = false;
  int progress = -1;  // -1: if stderr is a TTY
};

enum LongOnly { kVia = 256, kAllowBounce, kChunk, kQd, kForce, kResume, kDryRun, kVerify, kVerifyOnly, kProgress,
                kNoProgress, kVersion, kRate };

int UsageError(const std::string& msg) {
  std::fprintf(stderr, "cmbcp: %s\nTry 'cmbcp --help'.\n", msg.c_str());
  return kExitUsage;
}

// Parses argv; returns an exit status to stop with, or nullopt to go on.
std::optional<int> Parse(int argc, char** argv, Options& o) {
  static const option kLong[] = {
      {"src-lba", required_argument, nullptr, 's'}, {"dst-lba", required_argument, nullptr, 'd'},
      {"count", required_argument, nullptr, 'n'},   {"bytes", required_argument, nullptr, 'b'},
      {"via", required_argument, nullptr, kVia},    {"method", required_argument, nullptr, 'm'},
      {"allow-bounce", no_argument, nullptr, kAllowBounce}, {"chunk", required_argument, nullptr, kChunk},
      {"qd", required_argument, nullptr, kQd},      {"force", no_argument, nullptr, kForce},
      {"resume", optional_argument, nullptr, kResume}, {"dry-run", no_argument, nullptr, kDryRun},
      {"verify", no_argument, nullptr, kVerify},    {"verify-only", no_argument, nullptr, kVerifyOnly},
      {"output", required_argument, nullptr, 'o'},  {"progress", no_argument, nullptr, kProgress},
      {"no-progress", no_argument, nullptr, kNoProgress}, {"verbose", no_argument, nullptr, 'v'},
      {"help", no_argument, nullptr, 'h'},          {"version", no_argument, nullptr, kVersion},
      {"rate", required_argument, nullptr, kRate},
      {nullptr, 0, nullptr, 0}};
  auto number = [](const char* what, const char* text, uint64_t& out) -> std::optional<int> {
    absl::StatusOr<uint64_t> v = cmb::ParseCount(text);
    if (!v.ok()) return UsageError(absl::StrCat(what, ": ", v.status().message()));
    out = *v;
    return std::nullopt;
  };
  auto size = [](const char* what, const char* text, uint64_t& out) -> std::optional<int> {
    absl::StatusOr<uint64_t> v = cmb::ParseSize(text);
    if (!v.ok()) return UsageError(absl::StrCat(what, ": ", v.status().message()));
    out = *v;
    return std::nullopt;
  };
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":s:d:n:b:m:c:r:w:o:vh", kLong, nullptr)) != -1) {
    std::optional<int> stop;
    uint64_t v = 0;
    switch (c) {
      case 's': stop = number("--src-lba", optarg, o.src_lba); o.src_lba_set = true; break;
      case 'd': stop = number("--dst-lba", optarg, o.dst_lba); o.dst_lba_set = true; break;
      case 'n': stop = number("--count", optarg, v); o.count = v; break;
      case 'b': stop = size("--bytes", optarg, v); o.bytes = v; break;
      case 'c':
      case kVia: o.via = optarg; break;
      case 'm': {
        absl::StatusOr<cmb::CopyMethod> m = cmb::ParseCopyMethod(optarg);
        if (!m.ok()) return UsageError(std::string(m.status().message()));
        o.method = *m;
        break;
      }
      case 'r':
      case 'w': {
        absl::StatusOr<cmb::SpdkRange> r = cmb::ParseSpdkRange(optarg);
        if (!r.ok()) return UsageError(absl::StrCat("-", std::string(1, static_cast<char>(c)), ": ", r.status().message()));
        (c == 'r' ? o.spdk_read : o.spdk_write) = *r;
        break;
      }
      case kAllowBounce: o.allow_bounce = true; break;
      case kChunk: stop = size("--chunk", optarg, o.chunk); break;
      case kQd:
        stop = number("--qd", optarg, v);
        if (!stop && (v == 0 || v > 1024)) return UsageError("--qd must be 1..1024");
        o.qd = static_cast<unsigned>(v);
        break;
      case kRate:
        stop = size("--rate", optarg, o.rate);
        if (!stop && o.rate == 0) return UsageError("--rate must be at least 1 byte per second");
        break;
      case kForce: o.force = true; break;
      case kResume:
        o.resume = true;
        if (optarg) {
          stop = size("--resume", optarg, v);
          o.resume_bytes = v;
        }
        break;
      case kDryRun: o.dry_run = true; break;
      case kVerify: o.verify = true; break;
      case kVerifyOnly: o.verify_only = true; break;
      case 'o':
        if (std::string(optarg) == "json") o.json = true;
        else if (std::string(optarg) != "text") return UsageError(absl::StrCat("unknown output format '", optarg, "' (text, json)"));
        break;
      case kProgress: o.progress = 1; break;
      case kNoProgress: o.progress = 0; break;
      case 'v': o.verbose = true; break;
      case 'h': Usage(stdout); return kExitOk;
      case kVersion: std::printf("cmbcp %s\n", CMB_VERSION); return kExitOk;
      case ':': return UsageError(absl::StrCat("option ", argv[optind - 1], " needs a value"));
      default: return UsageError(absl::StrCat("unknown option ", argv[optind - 1]));
    }
    if (stop) return stop;
  }
  for (int i = optind; i < argc; ++i) o.positional.emplace_back(argv[i]);
  bool spdk = o.spdk_read || o.spdk_write;
  if (spdk) {
    if (!o.spdk_read || !o.spdk_write) return UsageError("SPDK form needs both -r and -w");
    if (!o.positional.empty()) return UsageError("give either SRC DST or -r/-w, not both");
    if (o.count || o.bytes || o.src_lba_set || o.dst_lba_set)
      return UsageError("-r/-w carry their own ranges; drop --src-lba/--dst-lba/--count/--bytes");
  } else if (o.positional.size() != 2) {
    return UsageError(o.positional.size() < 2 ? "need SRC and DST" : "too many arguments: need SRC and DST");
  }
  if (o.verify && o.verify_only) return UsageError("--verify and --verify-only exclude each other");
  if (o.resume && (o.dry_run || o.verify_only)) return UsageError("--resume copies: not with --dry-run or --verify-only");
  return std::nullopt;
}

int ExitFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return kExitUsage;
    case absl::StatusCode::kNotFound: return kExitNotFound;
    default: return kExitRefused;
  }
}

nlohmann::json EndJson(const cmb::CopyEnd& e, uint64_t lbas) {
  return {{"device", e.ns.generic_device.empty() ? e.ns.block_device : e.ns.generic_device},
          {"block_device", e.ns.block_device},
          {"controller", e.controller},
          {"serial", e.serial},
          {"address", e.address ? nlohmann::json(e.address->ToString()) : nlohmann::json()},
          {"nsid", e.ns.nsid},
          {"lba_size", e.ns.lba_size},
          {"first_lba", e.lba},
          {"lbas", lbas}};
}

nlohmann::json OwnCmbJson(const std::optional<cmb::OwnCmbPlan>& o) {
  if (!o) return nullptr;
  nlohmann::json probes = nlohmann::json::array();
  for (const cmb::OwnCmbProbe& p : o->probes)
    probes.push_back({{"bytes", p.bytes}, {"wrote_back", p.wrote_back}, {"accepted", p.accepted}, {"status", p.status}});
  return {{"owner", o->owner},
          {"predicted", cmb::OwnCmbOutcomeName(o->predicted.outcome)},
          {"reason", o->predicted.reason},
          {"probes", probes},
          {"command_bytes_limit", o->command_bytes_limit}};
}

nlohmann::json PlanJson(const cmb::CopyPlan& p) {
  nlohmann::json paths = nlohmann::json::array();
  for (const cmb::P2pPath& x : p.paths)
    paths.push_back({{"provider", x.provider.ToString()}, {"client", x.client.ToString()},
                     {"verdict", cmb::PathVerdictName(x.verdict)}, {"reason", x.reason}});
  return {{"method", cmb::CopyMethodName(p.method)},
          {"provider", p.provider ? nlohmann::json(p.provider->ToString()) : nlohmann::json()},
          {"src", EndJson(p.src, p.src_lbas())},
          {"dst", EndJson(p.dst, p.dst_lbas())},
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

void PrintPlan(const cmb::CopyPlan& p, bool verbose) {
  std::string via = p.provider ? absl::StrCat(" through the CMB of ", p.provider->ToString()) : "";
  std::cout << absl::StrFormat("plan: %s %s LBAs %u..%u -> %s LBAs %u..%u, %u bytes (%s), %s%s, chunk %s, qd %u\n",
                               cmb::CopyMethodName(p.method), p.src.ns.name, p.src.lba, p.src.lba + p.src_lbas() - 1,
                               p.dst.ns.name, p.dst.lba, p.dst.lba + p.dst_lbas() - 1, p.bytes,
                               cmbtools::HumanBytes(p.bytes), cmb::CopyMethodName(p.method), via,
                               cmbtools::HumanBytes(p.chunk_bytes), p.qd);
  if (verbose)
    for (const std::string& r : p.reasons) std::cout << "  " << r << "\n";
}

double Rate(uint64_t bytes, double s) { return s > 0 ? bytes / s / 1e6 : 0; }

// Like dd status=progress: "201326592 bytes (201 MB, 192 MiB) copied, 3 s, 67.1 MB/s".
std::string ProgressLine(uint64_t bytes, double s) {
  // Short copies get decimals, as dd's final line has, instead of "0 s".
  return absl::StrFormat("%u bytes (%.0f MB, %s) copied, %.*f s, %.1f MB/s", bytes, bytes / 1e6,
                         cmbtools::HumanBytes(bytes), s < 10 ? 2 : 0, s, Rate(bytes, s));
}

// Where --resume continues: the offset given, else the journal's. Checked
// against the plan before any device is opened, so a bad offset is a usage
// error rather than a failed copy.
absl::StatusOr<uint64_t> ResumeFrom(const Options& o, const cmb::CopyPlan& plan, const cmbcp::Journal& journal) {
  const uint64_t unit = std::lcm<uint64_t>(plan.src.ns.lba_size, plan.dst.ns.lba_size);
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

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (std::optional<int> stop = Parse(argc, argv, o)) return *stop;
  bool progress = o.progress < 0 ? isatty(STDERR_FILENO) : o.progress == 1;

  cmb::SysRoot root = cmb::SysRoot::FromEnvironment();
  absl::StatusOr<cmb::System> sys = cmb::Discover(root);
  if (!sys.ok()) {
    std::fprintf(stderr, "cmbcp: %s\n", std::string(sys.status().message()).c_str());
    return kExitIo;
  }
  cmb::CopyRequest req;
  absl::Status bad;
  auto resolve = [&](const std::string& spec, cmb::NamespaceRef& out) {
    absl::StatusOr<cmb::NamespaceRef> r = cmb::ResolveNamespace(root, *sys, spec);
    if (r.ok()) out = *r;
    else if (bad.ok()) bad = r.status();
  };
  if (o.spdk_read) {
    uint64_t rbytes = 0, wbytes = 0;
    for (auto [range, ref, bytes] : {std::tuple{&*o.spdk_read, &req.src, &rbytes}, {&*o.spdk_write, &req.dst, &wbytes}}) {
      resolve(absl::StrCat(range->bdf.ToString(), ":", range->nsid), *ref);
      if (ref->ns) *bytes = range->nlbas * ref->ns->lba_size;
    }
    req.src_lba = o.spdk_read->slba;
    req.dst_lba = o.spdk_write->slba;
    req.count = o.spdk_read->nlbas;
    if (bad.ok() && rbytes != wbytes)
      bad = absl::InvalidArgumentError(absl::StrFormat("-r covers %u bytes but -w covers %u bytes", rbytes, wbytes));
  } else {
    resolve(o.positional[0], req.src);
    resolve(o.positional[1], req.dst);
    req.src_lba = o.src_lba;
    req.dst_lba = o.dst_lba;
    req.count = o.count;
    req.bytes = o.bytes;
  }
  if (bad.ok() && !o.via.empty() && o.via != "auto") {
    absl::StatusOr<cmb::PciAddress> a = cmb::PciAddress::Parse(o.via);
    if (!a.ok()) bad = absl::InvalidArgumentError(absl::StrCat("--via: ", a.status().message()));
    else req.via = *a;
  }
  req.method = o.verify_only ? cmb::CopyMethod::kBounce : o.method;
  req.allow_bounce = o.allow_bounce;
  req.chunk_bytes = o.verify_only ? 0 : o.chunk;
  req.qd = o.qd;
  req.force = o.force || o.verify_only;  // verify-only writes nothing
  req.prove_with_writes = !o.dry_run;     // a dry run writes nothing either
  if (!bad.ok()) {
    std::fprintf(stderr, "cmbcp: %s\n", std::string(bad.message()).c_str());
    return ExitFor(bad);
  }
  absl::StatusOr<cmb::CopyPlan> plan = cmb::PlanCopy(root, *sys, req);
  // The library names request fields; say them as this tool's flags.
  if (!plan.ok()) {
    plan = absl::Status(plan.status().code(), cmbtools::InCmbcpTerms(plan.status().message()));
  } else {
    plan->reasons = cmbtools::InCmbcpTerms(plan->reasons);
    plan->overridden = cmbtools::InCmbcpTerms(plan->overridden);
  }
  if (!plan.ok()) {
    if (o.json) std::cout << cmbtools::Dump(nlohmann::json{{"error", plan.status().message()}}) << "\n";
    std::fprintf(stderr, "cmbcp: %s\n", std::string(plan.status().message()).c_str());
    return ExitFor(plan.status());
  }
  if (!o.verify_only)
    for (const std::string& w : plan->overridden) std::fprintf(stderr, "cmbcp: --force: %s\n", w.c_str());
  nlohmann::json out = {{"plan", PlanJson(*plan)}};
  if (o.dry_run) {
    if (o.json) std::cout << cmbtools::Dump(out) << "\n";
    else PrintPlan(*plan, true);
    return kExitOk;
  }

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESETHAND;  // a second signal kills at once
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto stop = [] { return g_signal.load() != 0; };

  int rc = kExitOk;
  if (!o.verify_only) {
    cmbcp::Journal journal = cmbcp::Journal::For(*plan);
    cmb::CopyControl ctl;
    ctl.stop = stop;
    ctl.rate_bytes_per_s = o.rate;
    if (o.resume) {
      absl::StatusOr<uint64_t> from = ResumeFrom(o, *plan, journal);
      if (!from.ok()) {
        std::fprintf(stderr, "cmbcp: %s\n", std::string(from.status().message()).c_str());
        return kExitUsage;
      }
      ctl.resume_bytes = *from;
    }
    if (o.verbose && !o.json) PrintPlan(*plan, true);
    if (progress)
      ctl.progress = [isatty = isatty(STDERR_FILENO) == 1, resume = ctl.resume_bytes](const cmb::CopyProgress& p) {
        std::fprintf(stderr, isatty ? "\r%s   " : "%s\n", ProgressLine(p.bytes_done - resume, p.seconds).c_str());
      };
    cmb::CopyResult r = cmb::RunCopy(root, *plan, ctl);
    if (!r.dst_not_held.empty())
      std::fprintf(stderr, "cmbcp: warning: %s; it was checked unused before the copy, but nothing stops a mount "
                   "meanwhile (run as root, or join the device's group)\n", r.dst_not_held.c_str());
    if (!r.page_cache_not_dropped.empty())
      std::fprintf(stderr, "cmbcp: warning: %s: readers of %s may see its old data until the page cache lets go "
                   "(echo 1 > /proc/sys/vm/drop_caches as root, or read with O_DIRECT)\n",
                   r.page_cache_not_dropped.c_str(), plan->dst.ns.block_device.c_str());
    if (progress && isatty(STDERR_FILENO)) std::fputc('\n', stderr);
    uint64_t moved = r.bytes_done - ctl.resume_bytes;
    uint64_t done_lbas = r.bytes_done / plan->dst.ns.lba_size;
    out["copy"] = {{"complete", r.complete()},
                   {"interrupted", r.stopped},
                   {"error", r.status.ok() ? nlohmann::json() : nlohmann::json(std::string(r.status.message()))},
                   {"resumed_from", ctl.resume_bytes},
                   {"page_cache_dropped", r.page_cache_not_dropped.empty()},
                   {"page_cache_note", r.page_cache_not_dropped.empty() ? nlohmann::json()
                                                                        : nlohmann::json(r.page_cache_not_dropped)},
                   {"bytes_done", r.bytes_done},
                   {"dst_done", {{"first_lba", plan->dst.lba}, {"lbas", done_lbas}}},
                   {"seconds", r.seconds},
                   {"mb_per_s", Rate(moved, r.seconds)},
                   {"commands", r.commands},
                   {"flushed", r.flushed},
                   {"dst_held_exclusively", r.dst_held}};
    if (r.complete()) {
      journal.Remove();
      if (!o.json)
        std::fprintf(stderr, "%s; %s %s\n", ProgressLine(moved, r.seconds).c_str(), cmb::CopyMethodName(plan->method),
                     plan->provider ? absl::StrCat("through ", plan->provider->ToString()).c_str() : "");
    } else {
      std::string left = r.bytes_done < plan->bytes
                             ? absl::StrFormat("; LBAs %u..%u are not", plan->dst.lba + done_lbas,
                                               plan->dst.lba + plan->dst_lbas() - 1)
                             : "";
      // Only a successful Flush makes the prefix durable; say which it is.
      std::string done = done_lbas ? absl::StrFormat("%s LBAs %u..%u (%u bytes) are %s%s",
                                                     plan->dst.ns.name, plan->dst.lba, plan->dst.lba + done_lbas - 1,
                                                     r.bytes_done,
                                                     r.flushed ? "copied and flushed" : "written but NOT flushed (the flush failed)",
                                                     left)
                                   : absl::StrFormat("no LBA of %s was completed", plan->dst.ns.name);
      if (!r.status.ok()) std::fprintf(stderr, "cmbcp: %s\n", std::string(r.status.message()).c_str());
      std::fprintf(stderr, "cmbcp: %s: %s\n", r.stopped ? "interrupted" : "failed", done.c_str());
      // What this run wrote but could not flush is not known to be durable:
      // no journal for it; only an earlier run's flushed prefix counts.
      if (!r.flushed && ctl.resume_bytes == 0) {
        std::fprintf(stderr, "cmbcp: nothing is known to be durable on %s: copy again from the start\n",
                     plan->dst.ns.name.c_str());
      } else if (!r.flushed) {
        std::fprintf(stderr, "cmbcp: only the first %llu bytes (flushed by the earlier run) are known to be durable "
                     "on %s: continue with --resume=%llu\n",
                     static_cast<unsigned long long>(ctl.resume_bytes), plan->dst.ns.name.c_str(),
                     static_cast<unsigned long long>(ctl.resume_bytes));
      } else if (r.bytes_done > 0 && r.bytes_done < plan->bytes) {
        absl::Status js = journal.Save(r.bytes_done);
        if (js.ok())
          std::fprintf(stderr, "cmbcp: to continue, run the same command with --resume (journal %s)\n",
                       journal.path().c_str());
        else
          std::fprintf(stderr, "cmbcp: could not save the journal (%s); continue with --resume=%llu\n",
                       std::string(js.message()).c_str(), static_cast<unsigned long long>(r.bytes_done));
      }
      // Nothing completed (open, allocation or the first command failed): nothing was written.
      rc = r.stopped && r.status.ok() ? kExitInterrupted : r.commands == 0 ? kExitRefused : kExitIo;
    }
  }
  if (rc == kExitOk && (o.verify || o.verify_only)) {
    absl::StatusOr<cmb::VerifyResult> v = cmb::VerifyCopy(*plan, stop);
    if (!v.ok()) {
      std::fprintf(stderr, "cmbcp: verify: %s\n", std::string(v.status().message()).c_str());
      out["verify"] = {{"error", v.status().message()}};
      rc = g_signal.load() ? kExitInterrupted : kExitIo;
    } else {
      out["verify"] = VerifyJson(*v);
      if (!o.json) {
        if (v->match)
          std::fprintf(stderr, "verify: %llu bytes match, crc32c %08x\n", static_cast<unsigned long long>(v->bytes),
                       v->src_crc32c);
        else
          std::fprintf(stderr,
                       "verify: MISMATCH: %llu of %llu dst LBAs differ; first at src LBA %llu / dst LBA %llu "
                       "(crc32c src %08x, dst %08x)\n",
                       static_cast<unsigned long long>(v->mismatched_dst_lbas),
                       static_cast<unsigned long long>(plan->dst_lbas()),
                       static_cast<unsigned long long>(*v->first_src_lba),
                       static_cast<unsigned long long>(*v->first_dst_lba), v->src_crc32c, v->dst_crc32c);
      }
      if (!v->match) rc = kExitMismatch;
    }
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  out["peak_rss_bytes"] = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  out["exit_status"] = rc;
  if (o.json) std::cout << cmbtools::Dump(out) << "\n";
  return rc;
}
