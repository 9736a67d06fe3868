#include "cmb/kernel_rules.h"

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cmb {
namespace {

constexpr KernelVersion kNewestKnown{7, 3, 0};  // the newest source read (7.3.4)
constexpr uint16_t kIntel = 0x8086, kGoogle = 0x1ae0, kNvidia = 0x10de;

// Leading decimal number of `s`, consumed; nullopt when there is none.
std::optional<int> Number(absl::string_view& s) {
  size_t n = 0;
  while (n < s.size() && absl::ascii_isdigit(s[n])) ++n;
  int v = 0;
  if (n == 0 || n > 6 || !absl::SimpleAtoi(s.substr(0, n), &v)) return std::nullopt;
  s.remove_prefix(n);
  return v;
}

}  // namespace

std::string KernelVersion::ToString() const {
  return patch ? absl::StrCat(major, ".", minor, ".", patch) : absl::StrCat(major, ".", minor);
}

std::optional<KernelVersion> ParseKernelRelease(absl::string_view s) {
  s = absl::StripAsciiWhitespace(s);
  KernelVersion v;
  std::optional<int> major = Number(s);
  if (!major || s.empty() || s.front() != '.') return std::nullopt;
  s.remove_prefix(1);
  std::optional<int> minor = Number(s);
  if (!minor) return std::nullopt;
  v.major = *major;
  v.minor = *minor;
  // The third number is the stable point release; what follows (+deb13,
  // -151-generic, -427.el9) is the distribution's, not upstream's.
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    if (std::optional<int> patch = Number(s)) v.patch = *patch;
  }
  return v;
}

const std::vector<WhitelistRule>& KernelRules::AllWhitelist() {
  // pci_p2pdma_whitelist[] of drivers/pci/p2pdma.c. 6.12 and 7.3.4 read;
  // the Intel and Skylake entries predate 6.2 (the oldest kernel with
  // p2pmem/allocate), so 6.2 is their "since" here.
  static const std::vector<WhitelistRule> kRules = [] {
    std::vector<WhitelistRule> r;
    auto add = [&](uint16_t vendor, int32_t device, bool same, KernelVersion since,
                   std::optional<KernelVersion> stable, const char* what) {
      r.push_back({vendor, device, same, since, stable, what});
    };
    for (int32_t d : {0x3c00, 0x3c01}) add(kIntel, d, true, {6, 2, 0}, std::nullopt, "Intel Xeon E5/Core i7");
    for (int32_t d : {0x2f00, 0x2f01}) add(kIntel, d, true, {6, 2, 0}, std::nullopt, "Intel Xeon E7 v3/E5 v3");
    for (int32_t d : {0x2030, 0x2031, 0x2032, 0x2033, 0x2020, 0x09a2})
      add(kIntel, d, false, {6, 2, 0}, std::nullopt, "Intel Skylake-E");
    // DSA/IAA/QAT as the first device of Xeon root buses (SPR, GNR, DMR).
    for (int32_t d : {0x0b25, 0x0cfe, 0x11fb, 0x1212, 0x1216, 0x4940, 0x4942, 0x4944, 0x4946, 0x4948})
      add(kIntel, d, false, {7, 2, 0}, KernelVersion{7, 1, 0}, "Intel DSA/IAA/QAT root-bus device");
    add(kGoogle, -1, false, {7, 1, 0}, std::nullopt, "Google SoC (any device, PCI_ANY_ID)");
    for (int32_t d : {0x2f95, 0x2f96, 0x2f97, 0x2f98})
      add(kNvidia, d, false, {7, 3, 0}, std::nullopt, "NVIDIA CPU (Vera Rubin)");
    // None after 7.3 is known: no newer tree was read, and no later entry was
    // found in the patch archives searched. Zhaoxin's host bridges (1d17:1003,
    // 1005-1007 same-bridge, 1008) are in a distribution's 6.6 vendor tree
    // only, not in mainline 7.3.4 (read), so they are not rules here.
    return r;
  }();
  return kRules;
}

const KernelFact& KernelFacts::CmbAlignment() {
  static const KernelFact kFact{"56cf7ef0d490",
                                KernelSince::kCmbAlignment,
                                {{.major = 6, .minor = 12, .from_patch = 23},
                                 {.major = 6, .minor = 1, .seen_in = 176},
                                 {.major = 5, .minor = 10},
                                 {.major = 6, .minor = 6},
                                 {.major = 6, .minor = 13}},
                                "the nvme driver skips a CMB whose size or BAR start is not 2 MiB aligned"};
  return kFact;
}

const KernelFact& KernelFacts::PoollessProviders() {
  static const KernelFact kFact{"372d6d1b8ae3", KernelSince::kPoolless, {},
                                "P2P providers without a memory pool; only a published pool serves p2pmem"};
  return kFact;
}

const KernelFact& KernelFacts::NonMappableBars() {
  static const KernelFact kFact{"951ebc18d181", KernelSince::kNonMappableBars, {},
                                "no P2P provider on a function whose BARs cannot be mapped"};
  return kFact;
}

RulePresence KernelRules::Has(const KernelFact& fact) const {
  KernelVersion k = version.value_or(kNewestKnown);
  if (k >= fact.since) return RulePresence::kYes;
  for (const StableBackport& b : fact.stable) {
    if (k.major != b.major || k.minor != b.minor) continue;
    if (b.from_patch >= 0) return k.patch >= b.from_patch ? RulePresence::kYes : RulePresence::kNo;
    // A point release at or past one read with it has it too (stable only adds).
    return b.seen_in >= 0 && k.patch >= b.seen_in ? RulePresence::kYes : RulePresence::kMaybe;
  }
  return RulePresence::kNo;
}

std::string KernelRules::Arrival(const KernelFact& fact) {
  std::string s = absl::StrCat(fact.commit, ", Linux ", fact.since.ToString());
  std::vector<std::string> unknown;  // series that took it at a point not known
  for (const StableBackport& b : fact.stable) {
    if (b.from_patch >= 0) absl::StrAppend(&s, "; ", b.major, ".", b.minor, ".y from ", b.major, ".", b.minor, ".",
                                           b.from_patch);
    else if (b.seen_in >= 0) absl::StrAppend(&s, "; ", b.major, ".", b.minor, ".y (seen in ", b.major, ".", b.minor,
                                             ".", b.seen_in, ")");
    else unknown.push_back(absl::StrCat(b.major, ".", b.minor, ".y"));
  }
  if (!unknown.empty()) absl::StrAppend(&s, "; ", absl::StrJoin(unknown, ", "), " at points not known");
  return s;
}

RulePresence KernelRules::Has(const WhitelistRule& rule) const {
  // An unparsable release gets the newest rules (version is nullopt).
  KernelVersion k = version.value_or(kNewestKnown);
  if (k >= rule.since) return RulePresence::kYes;
  if (rule.stable && k.major == rule.stable->major && k.minor == rule.stable->minor) return RulePresence::kMaybe;
  return RulePresence::kNo;
}

std::string KernelRules::Arrival(const WhitelistRule& rule) {
  std::string s = absl::StrCat("since Linux ", rule.since.ToString());
  if (rule.stable) absl::StrAppend(&s, ", and in ", rule.stable->major, ".", rule.stable->minor, ".y stable");
  return s;
}

KernelRules KernelRules::For(absl::string_view release) {
  KernelRules r;
  r.release = std::string(release);
  r.version = ParseKernelRelease(release);
  KernelVersion k = r.version.value_or(kNewestKnown);
  r.newer_than_known = r.version && KernelVersion{k.major, k.minor, 0} > kNewestKnown;
  KernelVersion rules = r.newer_than_known ? kNewestKnown : KernelVersion{k.major, k.minor, 0};
  r.rules_version = rules.ToString();
  // 6.17, "block: don't merge different kinds of P2P transfers": requests
  // are mapped by blk_dma_map_iter_start(), which fails
  // PCI_P2PDMA_MAP_NOT_SUPPORTED with BLK_STS_INVAL (block/blk-mq-dma.c).
  const bool dma_iter = k >= KernelSince::kDmaIter;
  r.unreachable_errno = dma_iter ? EINVAL : EREMOTEIO;
  r.mixed_memory_per_command = !dma_iter;
  r.p2pmem_allocate = k >= KernelSince::kP2pmemAllocate;
  r.passthrough = k >= KernelSince::kPassthrough;
  r.sqe_mixed = k >= KernelSince::kSqeMixed;
  r.rdma_host_p2p = k >= KernelSince::kRdmaHostP2p;
  r.amd_zen_rule = k >= KernelSince::kAmdZenP2p;
  r.cmb_alignment_check = r.Has(KernelFacts::CmbAlignment());
  r.poolless_providers = k >= KernelSince::kPoolless;
  r.non_mappable_bars_refused = k >= KernelSince::kNonMappableBars;
  r.multi_page_p2p = k >= KernelSince::kHostListP2p ? P2pDataPointer::kHostList
                     : k < KernelSince::kUnreadSglLayout ? P2pDataPointer::kInCommand
                                                      : P2pDataPointer::kUnknown;
  return r;
}

const char* RulePresenceName(RulePresence p) {
  switch (p) {
    case RulePresence::kYes: return "yes";
    case RulePresence::kNo: return "no";
    case RulePresence::kMaybe: return "maybe";
  }
  return "no";
}

const char* P2pDataPointerName(P2pDataPointer p) {
  switch (p) {
    case P2pDataPointer::kInCommand: return "in_command";
    case P2pDataPointer::kHostList: return "host_list";
    case P2pDataPointer::kUnknown: return "unknown";
  }
  return "unknown";
}

const char* KernelRules::unreachable_errno_name() const {
  return unreachable_errno == EINVAL ? "EINVAL" : "EREMOTEIO";
}

KernelRules KernelRules::ForRunning(const SysRoot& root) {
  absl::StatusOr<std::string> release = root.ReadAttr("/proc/sys/kernel/osrelease");
  return For(release.ok() ? *release : "");
}

std::string KernelRules::Describe() const {
  std::string s = absl::StrCat("rules of Linux ", rules_version, " (kernel ", release.empty() ? "unknown" : release,
                               ")");
  if (!version)
    absl::StrAppend(&s, ": the release is not a Linux version cmb can read, so the newest rules it knows apply");
  else if (newer_than_known)
    absl::StrAppend(&s, ": this kernel is newer than the newest rules cmb knows (", kNewestKnown.ToString(),
                    "); they apply, and where the kernel answers otherwise its answer wins");
  return s;
}

}  // namespace cmb
