#include "options.h"

#include <getopt.h>

#include "absl/strings/str_cat.h"

namespace cmbcp {
namespace {

enum LongOnly { kVia = 256, kAllowBounce, kChunk, kQd, kForce, kResume, kDryRun, kVerify, kVerifyOnly, kProgress,
                kNoProgress, kVersion, kRate, kExtents, kStopOnError, kStripe, kSqpoll, kPoll, kPath };

}  // namespace

int UsageError(const std::string& msg) {
  std::fprintf(stderr, "cmbcp: %s\nTry 'cmbcp --help'.\n", msg.c_str());
  return kExitUsage;
}

namespace {

const option kLong[] = {
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
    {"rate", required_argument, nullptr, kRate},  {"extents", required_argument, nullptr, kExtents},
    {"stop-on-error", no_argument, nullptr, kStopOnError}, {"stripe", no_argument, nullptr, kStripe},
    {"sqpoll", no_argument, nullptr, kSqpoll},    {"poll", no_argument, nullptr, kPoll},
    {"path", required_argument, nullptr, kPath},  {nullptr, 0, nullptr, 0}};

std::optional<int> Number(const char* what, const char* text, uint64_t& out) {
  absl::StatusOr<uint64_t> v = cmb::ParseCount(text);
  if (!v.ok()) return UsageError(absl::StrCat(what, ": ", v.status().message()));
  out = *v;
  return std::nullopt;
}

std::optional<int> Size(const char* what, const char* text, uint64_t& out) {
  absl::StatusOr<uint64_t> v = cmb::ParseSize(text);
  if (!v.ok()) return UsageError(absl::StrCat(what, ": ", v.status().message()));
  out = *v;
  return std::nullopt;
}

// The options without a value; false for any other.
bool SetFlag(int c, Options& o) {
  switch (c) {
    case kAllowBounce: o.allow_bounce = true; return true;
    case kStripe: o.stripe = true; return true;
    case kSqpoll: o.sqpoll = true; return true;
    case kPoll: o.poll = true; return true;
    case kForce: o.force = true; return true;
    case kStopOnError: o.stop_on_error = true; return true;
    case kDryRun: o.dry_run = true; return true;
    case kVerify: o.verify = true; return true;
    case kVerifyOnly: o.verify_only = true; return true;
    case kProgress: o.progress = 1; return true;
    case kNoProgress: o.progress = 0; return true;
    case 'v': o.verbose = true; return true;
    default: return false;
  }
}

// The method, its CMB and the SPDK ranges.
std::optional<int> SetMethodOption(int c, Options& o) {
  if (c == 'c' || c == kVia) {
    o.via = optarg;
  } else if (c == 'm') {
    absl::StatusOr<cmb::CopyMethod> m = cmb::ParseCopyMethod(optarg);
    if (!m.ok()) return UsageError(std::string(m.status().message()));
    o.method = *m;
  } else if (c == kPath) {
    absl::StatusOr<cmb::DataPath> p = cmb::ParseDataPath(optarg);
    if (!p.ok()) return UsageError(absl::StrCat("--path: ", p.status().message()));
    o.path = *p;
  } else {  // -r, -w
    absl::StatusOr<cmb::SpdkRange> r = cmb::ParseSpdkRange(optarg);
    if (!r.ok()) return UsageError(absl::StrCat("-", std::string(1, static_cast<char>(c)), ": ", r.status().message()));
    (c == 'r' ? o.spdk_read : o.spdk_write) = *r;
  }
  return std::nullopt;
}

// The options with a value: the exit status when the value is bad.
std::optional<int> SetValue(int c, Options& o) {
  uint64_t v = 0;
  std::optional<int> stop;
  switch (c) {
    case 's': stop = Number("--src-lba", optarg, o.src_lba); o.src_lba_set = true; return stop;
    case 'd': stop = Number("--dst-lba", optarg, o.dst_lba); o.dst_lba_set = true; return stop;
    case 'n': stop = Number("--count", optarg, v); o.count = v; return stop;
    case 'b': stop = Size("--bytes", optarg, v); o.bytes = v; return stop;
    case 'c': case kVia: case 'm': case 'r': case 'w': case kPath: return SetMethodOption(c, o);
    case kChunk: return Size("--chunk", optarg, o.chunk);
    case kQd:
      if ((stop = Number("--qd", optarg, v))) return stop;
      if (v == 0 || v > 1024) return UsageError("--qd must be 1..1024");
      o.qd = static_cast<unsigned>(v);
      return std::nullopt;
    case kRate:
      if ((stop = Size("--rate", optarg, o.rate))) return stop;
      if (o.rate == 0) return UsageError("--rate must be at least 1 byte per second");
      return std::nullopt;
    case kExtents: o.extents = optarg; return std::nullopt;
    case kResume:
      o.resume = true;
      if (!optarg) return std::nullopt;
      stop = Size("--resume", optarg, v);
      o.resume_bytes = v;
      return stop;
    case 'o':
      if (std::string(optarg) == "json") o.json = true;
      else if (std::string(optarg) != "text") return UsageError(absl::StrCat("unknown output format '", optarg, "' (text, json)"));
      return std::nullopt;
  }
  return UsageError("internal: unhandled option");
}

// Options that exclude or need each other.
std::optional<int> CheckCombinations(const Options& o) {
  bool spdk = o.spdk_read || o.spdk_write;
  if (spdk) {
    if (!o.spdk_read || !o.spdk_write) return UsageError("SPDK form needs both -r and -w");
    if (!o.positional.empty()) return UsageError("give either SRC DST or -r/-w, not both");
    if (o.count || o.bytes || o.src_lba_set || o.dst_lba_set)
      return UsageError("-r/-w carry their own ranges; drop --src-lba/--dst-lba/--count/--bytes");
  } else if (o.positional.size() < 2) {
    return UsageError("need SRC and DST");
  }
  if (!o.extents.empty() && (spdk || o.count || o.bytes || o.src_lba_set || o.dst_lba_set || o.resume || o.verify_only))
    return UsageError("--extents FILE carries the ranges: not with -r/-w, --src-lba, --dst-lba, --count, --bytes, "
                      "--resume or --verify-only");
  if (o.verify && o.verify_only) return UsageError("--verify and --verify-only exclude each other");
  if (o.resume && (o.dry_run || o.verify_only)) return UsageError("--resume copies: not with --dry-run or --verify-only");
  if (o.resume && o.positional.size() > 2)
    return UsageError("--resume continues one DST: resume each DST of a fan-out on its own (cmbcp SRC DST --resume=BYTES)");
  return std::nullopt;
}

constexpr const char* kUsageHead = R"(Usage: cmbcp [OPTIONS] SRC DST [DST...]
       cmbcp -r BDF-NSID-SLBA-NLBAS -w BDF-NSID-SLBA-NLBAS [-c BDF] [OPTIONS]
Copy LBAs from namespace SRC to namespace DST peer-to-peer through an NVMe
Controller Memory Buffer (CMB), with the kernel's nvme driver (no unbinding).
With several DSTs (fan-out), each chunk is read once into the CMB and written
to every DST, all at --dst-lba; a failing DST is reported with its own prefix
and the others go on.

SRC and DST: /dev/ngXnY, /dev/nvmeXnY, nvmeX:NSID, or a PCI address with a
namespace (0000:03:00.0:1). The second form is SPDK cmb_copy's.

Range:
  -s, --src-lba LBA     first source LBA (default 0)
  -d, --dst-lba LBA     first destination LBA (default 0)
  -n, --count N         source LBAs to copy
  -b, --bytes SIZE      bytes to copy (K, M, G, T suffixes); a whole number of
                        LBAs on both sides
      --extents FILE    copy the extents listed in FILE ('-': stdin), one per line:
                        SRC_LBA DST_LBA COUNT ('#' comments), as one request
      --stop-on-error   with several DSTs, a failing one stops them all (default:
                        it is dropped and the others go on)
Method:
      --via BDF|auto    the CMB to copy through (default auto: the destination's
                        own, else the source's, else any the kernel allows)
  -c BDF                same as --via (SPDK cmb_copy)
      --stripe          spread the chunks round-robin over every other CMB that
                        the source and all DSTs reach (third-party ones only),
                        the --via one first: one CMB's BAR is often the limit
  -m, --method M        auto (default), p2p, bounce, nvme-copy. auto: NVMe Copy
                        within one namespace when the controller supports it,
                        else p2p, else an error saying why
      --allow-bounce    let auto fall back to copying through host memory
      --path P          how every end's commands go: passthrough (NVMe commands
                        on /dev/ngXnY) or block (O_DIRECT on /dev/nvmeXnY).
                        Default: passthrough, except an end this process may
                        open only as a block device, and on Linux >= 7.3 a
                        controller writing from or reading into its own CMB,
                        when a multi-page command through its block device is
                        proven to work
      --chunk SIZE      bytes per command (default: max transfer, <= 1M)
      --qd N            commands in flight (default 16, limited by free CMB)
      --rate SIZE       copy at most SIZE bytes per second (K, M, G suffixes),
                        like pv -L, so production I/O is not starved
      --sqpoll          submit through a kernel polling thread (IORING_SETUP_SQPOLL,
                        as fio's sqthread_poll): fewer system calls, more CPU
      --poll            poll for completions on the devices' poll queues
                        (IORING_SETUP_IOPOLL, as fio's hipri); needs nvme poll_queues
)";

constexpr const char* kUsageTail = R"(Safety:
      --force           write to a destination that is in use (mounted, swap,
                        md/dm) or whose use cannot be read, without holding it;
                        needs CAP_SYS_ADMIN (root): it is not a permission
      --resume[=BYTES]  continue an interrupted copy (BYTES: from this offset;
                        without: from the journal the interrupted run saved);
                        one DST only: a fan-out's DSTs resume one by one
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
(the completed prefix is reported; with fan-out: on any DST), 2 usage error, 3 device not found,
4 refused before writing (in use, overlap, beyond the end, no P2P path,
CMB full, permission denied), 5 verify mismatch, 130 interrupted (resume
with --resume).
)";

}  // namespace

std::optional<int> Parse(int argc, char** argv, Options& o) {
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":s:d:n:b:m:c:r:w:o:vh", kLong, nullptr)) != -1) {
    if (SetFlag(c, o)) continue;
    switch (c) {
      case 'h': Usage(stdout); return kExitOk;
      case kVersion: std::printf("cmbcp %s\n", CMB_VERSION); return kExitOk;
      case ':': return UsageError(absl::StrCat("option ", argv[optind - 1], " needs a value"));
      case '?':  // optopt names a short option even inside a cluster (-xv); else argv has the long one
        return UsageError(optopt ? absl::StrCat("unknown option -", std::string(1, static_cast<char>(optopt)))
                                 : absl::StrCat("unknown option ", argv[optind - 1]));
    }
    if (std::optional<int> stop = SetValue(c, o)) return stop;
  }
  for (int i = optind; i < argc; ++i) o.positional.emplace_back(argv[i]);
  return CheckCombinations(o);
}

void Usage(FILE* out) {
  std::fputs(kUsageHead, out);
  std::fputs(kUsageTail, out);
}

int ExitFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return kExitUsage;
    case absl::StatusCode::kNotFound: return kExitNotFound;
    default: return kExitRefused;
  }
}

cmb::CopierOptions CopierOptionsOf(const Options& o) {
  return {.rate_bytes_per_s = o.rate, .stop_on_dst_failure = o.stop_on_error, .sqpoll = o.sqpoll,
          .poll_completions = o.poll};
}

}  // namespace cmbcp
