// cmbinfo --probe and --report: the read proof of every allowed (CMB,
// namespace) pair (cmb/read_proof.h), as text, JSON and a redacted summary
// for bug reports.
//
//   cmbinfo::ProbeRun run = cmbinfo::RunProbes(sys, paths, {.bytes = 4 << 20}, &std::cout);
//   j["probe"] = cmbinfo::ProbeJson(run);
//   return cmbinfo::ProbeExit(run);   // 0 all matched, 5 a mismatch, 1 an error
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmb/discovery.h"
#include "cmb/p2p_path.h"
#include "cmb/read_proof.h"

namespace cmbinfo {

constexpr int kExitMismatch = 5;

struct ProbeOutcome {
  cmb::ReadProofPair pair;
  std::optional<cmb::ReadProof> proof{};  // set when the reads ran
  std::string error{};                    // why they could not, when tried
};

struct ProbeRun {
  uint64_t bytes_asked = 0;
  std::vector<ProbeOutcome> outcomes{};
};

// Plans and runs every pair; with `text`, prints each as it ends (progress).
ProbeRun RunProbes(const cmb::System& sys, const std::vector<cmb::P2pPath>& paths,
                   const cmb::ReadProofOptions& options, std::ostream* text);
// 0 when every tried pair matched (or none was tried), 5 on a mismatch, 1 on an error.
int ProbeExit(const ProbeRun& run);
// The header and closing lines around RunProbes' text.
void PrintProbeHeader(std::ostream& out, const ProbeRun& run);
void PrintProbeSummary(std::ostream& out, const ProbeRun& run);
// {"bytes": N, "pairs": [{provider, client, namespace, bytes, match, p2p_mb_s, host_mb_s, error, ...}]}
nlohmann::json ProbeJson(const ProbeRun& run);

// A shareable summary: kernel, platform, controllers by model and PCI name,
// CMBs, verdicts and, when `run` is given, the probe. No serial numbers,
// namespace identifiers, mount points or host names.
void PrintReport(std::ostream& out, const cmb::SysRoot& root, const cmb::System& sys,
                 const std::vector<cmb::P2pPath>& paths, const ProbeRun* run);

}  // namespace cmbinfo
