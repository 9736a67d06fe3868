// cmbcp's command line: its options, --help text and exit statuses. The
// library never sees a flag: main.cc turns these into a cmb::CopyRequest.
//
//   cmbcp::Options o;
//   if (std::optional<int> stop = cmbcp::Parse(argc, argv, o)) return *stop;
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cmb/copier.h"
#include "cmb/copy_plan.h"
#include "cmb/namespace_spec.h"

namespace cmbcp {

// Exit status, documented in --help and cmbcp(1).
constexpr int kExitOk = 0;
constexpr int kExitIo = 1;        // the copy started and failed; the completed prefix is reported
constexpr int kExitUsage = 2;     // bad options or arguments; nothing done
constexpr int kExitNotFound = 3;  // a named device does not exist; nothing done
constexpr int kExitRefused = 4;   // refused before any write (unsafe, beyond the end, no P2P path)
constexpr int kExitMismatch = 5;  // --verify found differences
constexpr int kExitInterrupted = 130;  // SIGINT/SIGTERM: stopped cleanly, resumable

struct Options {
  std::vector<std::string> positional;
  std::optional<cmb::SpdkRange> spdk_read, spdk_write;
  std::string via;  // "", "auto", or a BDF
  uint64_t src_lba = 0, dst_lba = 0;
  bool src_lba_set = false, dst_lba_set = false;
  std::optional<uint64_t> count, bytes;
  cmb::CopyMethod method = cmb::CopyMethod::kAuto;
  std::optional<cmb::DataPath> path;  // --path; unset: the planner picks per end
  bool stripe = false;  // --stripe: chunks alternate over every third-party CMB that reaches all ends
  bool allow_bounce = false, force = false, dry_run = false, verify = false, verify_only = false;
  uint64_t chunk = 0;
  unsigned qd = 0;
  uint64_t rate = 0;  // bytes per second; 0: unlimited
  bool resume = false;
  std::optional<uint64_t> resume_bytes;
  std::string extents;  // --extents FILE ("-": stdin)
  bool stop_on_error = false;  // fan-out: a failing DST stops all
  bool sqpoll = false, poll = false;  // --sqpoll, --poll
  bool json = false, verbose = false;
  int progress = -1;  // -1: if stderr is a TTY
};

void Usage(FILE* out);
int UsageError(const std::string& msg);
// Parses argv; returns an exit status to stop with, or nullopt to go on.
std::optional<int> Parse(int argc, char** argv, Options& o);
// The exit status for a refusal before any write.
int ExitFor(const absl::Status& s);
// The engine's options the command line sets.
cmb::CopierOptions CopierOptionsOf(const Options& o);

}  // namespace cmbcp
