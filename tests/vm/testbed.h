// What every in-guest test needs from the VM testbed (tests/vm/vm.sh): which
// topology booted, and the emulated controllers by serial ("cmb", "src",
// "dst"), since nvmeX numbers follow probe order and vary between boots.
//
//   ASSERT_EQ(cmbtest::Topology(), "switch");
//   const cmb::Controller& src = cmbtest::BySerial(sys, "src");
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "cmb/data_path.h"
#include "cmb/discovery.h"

namespace cmbtest {

// The data path a suite runs on: CMB_TEST_PATH (passthrough or block), set
// by the CMake test of each path; nullopt (unset): the planner's choice.
inline std::optional<cmb::DataPath> TestPath() {
  const char* p = std::getenv("CMB_TEST_PATH");
  if (p == nullptr || *p == '\0') return std::nullopt;
  absl::StatusOr<cmb::DataPath> path = cmb::ParseDataPath(p);
  if (!path.ok()) ADD_FAILURE() << "CMB_TEST_PATH: " << path.status();
  return path.ok() ? std::optional<cmb::DataPath>(*path) : std::nullopt;
}

// `cmbcp`, with --path when the suite runs on one.
inline std::string WithTestPath(const std::string& cmbcp) {
  const std::optional<cmb::DataPath> p = TestPath();
  return p ? absl::StrCat(cmbcp, " --path ", cmb::DataPathName(*p)) : cmbcp;
}

inline std::string Topology() {
  const char* t = std::getenv("CMB_TOPOLOGY");
  return t ? t : "";
}

// The controller with `serial`; a test failure (and an empty controller) when none.
inline const cmb::Controller& BySerial(const cmb::System& sys, const std::string& serial) {
  for (const cmb::Controller& c : sys.controllers)
    if (c.serial == serial) return c;
  ADD_FAILURE() << "no controller with serial " << serial;
  static const cmb::Controller none;
  return none;
}

}  // namespace cmbtest
